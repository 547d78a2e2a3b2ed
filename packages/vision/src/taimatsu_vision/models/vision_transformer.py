"""Vision Transformer (Dosovitskiy et al., 2021) with torchvision's layout: `conv_proj`
(patch embedding), `class_token`, `encoder` (pos_embedding, encoder_layer_0..N-1 with
ln_1, self_attention (nn.MultiheadAttention), ln_2, mlp; a final ln), and `heads`."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

import taimatsu
from taimatsu import Tensor, nn

from ..ops.misc import MLP
from ._api import register_model
from ._utils import _ovewrite_named_param, handle_legacy_interface, load_weights, prepare
from ._weights import ViT_B_16_Weights, ViT_B_32_Weights

__all__ = ["VisionTransformer", "vit_b_16", "vit_b_32"]


class MLPBlock(MLP):
    """The transformer's feed-forward: Linear, GELU, Dropout, Linear, Dropout.

    torchvision's published ViT checkpoints predate this layout and name the two linear
    layers `linear_1` and `linear_2`; such keys are renamed to `0` and `3` on load, as
    torchvision does.
    """

    _version = 2

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, inplace=None,
                         dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)
        self._register_load_state_dict_pre_hook(self._rename_legacy_keys)

    def _rename_legacy_keys(self, state_dict, prefix, *args) -> None:
        for i in range(2):
            for kind in ("weight", "bias"):
                old = f"{prefix}linear_{i + 1}.{kind}"
                if old in state_dict:
                    state_dict[f"{prefix}{3 * i}.{kind}"] = state_dict.pop(old)


class EncoderBlock(nn.Module):
    """Pre-norm transformer layer: x + attention(ln_1(x)), then + mlp(ln_2(.))."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 3:
            raise AssertionError("Expected (batch_size, seq_length, hidden_dim) got "
                                 f"{tuple(input.shape)}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learned position embeddings, a stack of EncoderBlocks, a final LayerNorm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(
            taimatsu.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for i in range(num_layers):
            layers[f"encoder_layer_{i}"] = EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                        attention_dropout, norm_layer)
        self.layers = nn.Sequential(layers)
        self.ln = norm_layer(hidden_dim)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 3:
            raise AssertionError("Expected (batch_size, seq_length, hidden_dim) got "
                                 f"{tuple(input.shape)}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """ViT: non-overlapping patches, a class token, a transformer encoder, a linear head
    on the class token.

    Args:
        image_size: the (square) input size the position embeddings are made for
        representation_size: adds a Linear + Tanh "pre_logits" layer of this width
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise AssertionError("Input shape indivisible by patch size!")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2
        self.class_token = nn.Parameter(taimatsu.zeros(1, 1, hidden_dim))
        seq_length += 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length
        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)

        fan_in = self.conv_proj.in_channels * patch_size * patch_size
        nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        if representation_size is not None:
            nn.init.trunc_normal_(self.heads.pre_logits.weight,
                                  std=math.sqrt(1 / self.heads.pre_logits.in_features))
            nn.init.zeros_(self.heads.pre_logits.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, patches, hidden_dim)."""
        n, _, h, w = x.shape
        p = self.patch_size
        if h != self.image_size:
            raise AssertionError(f"Wrong image height! Expected {self.image_size} but got {h}!")
        if w != self.image_size:
            raise AssertionError(f"Wrong image width! Expected {self.image_size} but got {w}!")
        x = self.conv_proj(x)
        x = x.reshape(n, self.hidden_dim, (h // p) * (w // p))
        return x.permute(0, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self._process_input(x)
        batch_class_token = self.class_token.expand(x.shape[0], -1, -1)
        x = taimatsu.cat([batch_class_token, x], dim=1)
        x = self.encoder(x)
        return self.heads(x[:, 0])


def _vision_transformer(name: str, patch_size: int, num_layers: int, num_heads: int,
                        hidden_dim: int, mlp_dim: int, weights, progress: bool,
                        **kwargs) -> VisionTransformer:
    record = prepare(name, weights, kwargs)
    if record is not None and "min_size" in record.meta:
        _ovewrite_named_param(kwargs, "image_size", record.meta["min_size"][0])
    image_size = kwargs.pop("image_size", 224)
    model = VisionTransformer(image_size=image_size, patch_size=patch_size,
                              num_layers=num_layers, num_heads=num_heads,
                              hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs)
    return load_weights(model, record, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", ViT_B_16_Weights.IMAGENET1K_V1))
def vit_b_16(*, weights: ViT_B_16_Weights | None = None, progress: bool = True,
             **kwargs) -> VisionTransformer:
    """ViT-B/16: 12 layers, 12 heads, width 768, 16x16 patches (86.6M parameters)."""
    return _vision_transformer("vit_b_16", 16, 12, 12, 768, 3072, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ViT_B_32_Weights.IMAGENET1K_V1))
def vit_b_32(*, weights: ViT_B_32_Weights | None = None, progress: bool = True,
             **kwargs) -> VisionTransformer:
    """ViT-B/32: as ViT-B/16 with 32x32 patches (88.2M parameters)."""
    return _vision_transformer("vit_b_32", 32, 12, 12, 768, 3072, weights, progress, **kwargs)
