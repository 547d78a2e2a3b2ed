"""Swin Transformer (Liu et al., 2021), Swin-T, with torchvision's layout: `features`
alternates stages of SwinTransformerBlocks (1, 3, 5, 7) with PatchMerging (2, 4, 6)
after the patch embedding (0: 4x4 conv, Permute, LayerNorm); then `norm`, `permute`,
`avgpool`, `flatten`, `head`. Activations are channels-last (N, H, W, C) inside."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

import numpy as np

import taimatsu
from taimatsu import Tensor, nn
from taimatsu.nn import functional as F

from ..ops.misc import MLP, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._utils import handle_legacy_interface, load_weights, prepare
from ._weights import Swin_T_Weights

__all__ = ["SwinTransformer", "swin_t"]


def _patch_merging_pad(x: Tensor) -> Tensor:
    """(..., H, W, C) -> (..., ceil(H/2), ceil(W/2), 4C): each 2x2 neighbourhood's pixels,
    ordered (0,0), (1,0), (0,1), (1,1) as (row, col) offsets."""
    h, w = x.shape[-3], x.shape[-2]
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
    return taimatsu.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :],
                         x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)


class PatchMerging(nn.Module):
    """Halves the resolution and doubles the channels: 2x2 concat, LayerNorm, Linear."""

    def __init__(self, dim: int, norm_layer: Callable[..., nn.Module] = nn.LayerNorm) -> None:
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.reduction(self.norm(_patch_merging_pad(x)))


def _relative_position_index(window_size: list[int]) -> np.ndarray:
    """(Wh*Ww*Wh*Ww,) int64: for each pair of positions in a window, the row of the bias
    table holding their relative offset."""
    wh, ww = window_size
    coords = np.stack(np.meshgrid(np.arange(wh), np.arange(ww), indexing="ij")).reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    return rel.sum(-1).reshape(-1).astype(np.int64)


@lru_cache(maxsize=64)
def _shift_mask(pad_h: int, pad_w: int, window_size: tuple, shift_size: tuple) -> np.ndarray:
    """(windows, N, N) additive mask: -100 between positions that the cyclic shift brought
    together from different image regions, 0 elsewhere. Cached: read-only."""
    region = np.zeros((pad_h, pad_w), dtype=np.float32)
    h_slices = ((0, -window_size[0]), (-window_size[0], -shift_size[0]), (-shift_size[0], None))
    w_slices = ((0, -window_size[1]), (-window_size[1], -shift_size[1]), (-shift_size[1], None))
    count = 0
    for h0, h1 in h_slices:
        for w0, w1 in w_slices:
            region[h0:h1, w0:w1] = count
            count += 1
    region = region.reshape(pad_h // window_size[0], window_size[0], pad_w // window_size[1],
                            window_size[1]).transpose(0, 2, 1, 3)
    region = region.reshape(-1, window_size[0] * window_size[1])
    diff = region[:, None, :] - region[:, :, None]
    mask = np.where(diff != 0, np.float32(-100.0), np.float32(0.0))
    mask.flags.writeable = False
    return mask


def shifted_window_attention(input: Tensor, qkv_weight: Tensor, proj_weight: Tensor,
                             relative_position_bias: Tensor, window_size: list[int],
                             num_heads: int, shift_size: list[int],
                             attention_dropout: float = 0.0, dropout: float = 0.0,
                             qkv_bias: Tensor | None = None, proj_bias: Tensor | None = None,
                             training: bool = True) -> Tensor:
    """Multi-head self-attention within (shifted) windows of an (N, H, W, C) input."""
    b, h, w, c = input.shape
    pad_r = (window_size[1] - w % window_size[1]) % window_size[1]
    pad_b = (window_size[0] - h % window_size[0]) % window_size[0]
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b))
    _, pad_h, pad_w, _ = x.shape
    shift_size = list(shift_size)
    # a window covering the whole map needs no shift
    if window_size[0] >= pad_h:
        shift_size[0] = 0
    if window_size[1] >= pad_w:
        shift_size[1] = 0
    shifted = sum(shift_size) > 0
    if shifted:
        x = taimatsu.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))
    num_windows = (pad_h // window_size[0]) * (pad_w // window_size[1])
    n = window_size[0] * window_size[1]
    x = x.reshape(b, pad_h // window_size[0], window_size[0], pad_w // window_size[1],
                  window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * num_windows, n, c)
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.shape[0], n, 3, num_heads, c // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    q = q * (c // num_heads) ** -0.5
    attn = q.matmul(k.transpose(-2, -1)) + relative_position_bias
    if shifted:
        mask = _shift_mask(pad_h, pad_w, tuple(window_size), tuple(shift_size))
        mask = taimatsu.tensor(mask, dtype=attn.dtype, device=attn.device)
        attn = attn.reshape(b, num_windows, num_heads, n, n) + mask[None, :, None]
        attn = attn.reshape(-1, num_heads, n, n)
    attn = F.softmax(attn, dim=-1)
    attn = F.dropout(attn, p=attention_dropout, training=training)
    x = attn.matmul(v).transpose(1, 2).reshape(x.shape[0], n, c)
    x = F.linear(x, proj_weight, proj_bias)
    x = F.dropout(x, p=dropout, training=training)
    x = x.reshape(b, pad_h // window_size[0], pad_w // window_size[1], window_size[0],
                  window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, pad_h, pad_w, c)
    if shifted:
        x = taimatsu.roll(x, shifts=(shift_size[0], shift_size[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


class ShiftedWindowAttention(nn.Module):
    """Window attention with a learned relative position bias per head.

    `relative_position_index` is a persistent buffer, as in torchvision; checkpoints that
    leave it out (timm's) get it recomputed on load.
    """

    def __init__(self, dim: int, window_size: list[int], shift_size: list[int], num_heads: int,
                 qkv_bias: bool = True, proj_bias: bool = True, attention_dropout: float = 0.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if len(window_size) != 2 or len(shift_size) != 2:
            raise ValueError("window_size and shift_size must be of length 2")
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.relative_position_bias_table = nn.Parameter(taimatsu.zeros(
            (2 * window_size[0] - 1) * (2 * window_size[1] - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index",
                             taimatsu.from_numpy(_relative_position_index(window_size)))
        self._register_load_state_dict_pre_hook(self._fill_position_index)

    def _fill_position_index(self, state_dict, prefix, *args) -> None:
        key = prefix + "relative_position_index"
        if key not in state_dict:
            state_dict[key] = taimatsu.from_numpy(_relative_position_index(self.window_size))

    def get_relative_position_bias(self) -> Tensor:
        n = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.reshape(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x: Tensor) -> Tensor:
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, self.get_relative_position_bias(),
            self.window_size, self.num_heads, shift_size=self.shift_size,
            attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, training=self.training)


class SwinTransformerBlock(nn.Module):
    """x + attn(norm1(x)), then + mlp(norm2(.)), both with stochastic depth."""

    def __init__(self, dim: int, num_heads: int, window_size: list[int], shift_size: list[int],
                 mlp_ratio: float = 4.0, dropout: float = 0.0, attention_dropout: float = 0.0,
                 stochastic_depth_prob: float = 0.0,
                 norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
                 attn_layer: Callable[..., nn.Module] = ShiftedWindowAttention) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, window_size, shift_size, num_heads,
                               attention_dropout=attention_dropout, dropout=dropout)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.norm2 = norm_layer(dim)
        self.mlp = MLP(dim, [int(dim * mlp_ratio), dim], activation_layer=nn.GELU, inplace=None,
                       dropout=dropout)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


class SwinTransformer(nn.Module):
    """Swin Transformer.

    Args:
        patch_size: [h, w] of the patch embedding
        embed_dim: channels of the first stage (doubled at each merge)
        depths, num_heads: blocks and heads per stage
        window_size: [h, w] of the attention windows (blocks alternate plain and shifted
            by half a window)
        stochastic_depth_prob: drop probability of the last block (linear from 0)
    """

    def __init__(self, patch_size: list[int], embed_dim: int, depths: list[int],
                 num_heads: list[int], window_size: list[int], mlp_ratio: float = 4.0,
                 dropout: float = 0.0, attention_dropout: float = 0.0,
                 stochastic_depth_prob: float = 0.1, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 block: Callable[..., nn.Module] | None = None,
                 downsample_layer: Callable[..., nn.Module] = PatchMerging) -> None:
        super().__init__()
        self.num_classes = num_classes
        if block is None:
            block = SwinTransformerBlock
        if norm_layer is None:
            norm_layer = partial(nn.LayerNorm, eps=1e-5)
        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(3, embed_dim, kernel_size=(patch_size[0], patch_size[1]),
                      stride=(patch_size[0], patch_size[1])),
            Permute([0, 2, 3, 1]),
            norm_layer(embed_dim))]
        total_stage_blocks = sum(depths)
        stage_block_id = 0
        for i_stage, depth in enumerate(depths):
            dim = embed_dim * 2**i_stage
            stage: list[nn.Module] = []
            for i_layer in range(depth):
                sd_prob = stochastic_depth_prob * float(stage_block_id) / (total_stage_blocks - 1)
                stage.append(block(dim, num_heads[i_stage], window_size=window_size,
                                   shift_size=[0 if i_layer % 2 == 0 else s // 2
                                               for s in window_size],
                                   mlp_ratio=mlp_ratio, dropout=dropout,
                                   attention_dropout=attention_dropout,
                                   stochastic_depth_prob=sd_prob, norm_layer=norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.permute(self.norm(self.features(x)))
        return self.head(self.flatten(self.avgpool(x)))


@register_model()
@handle_legacy_interface(weights=("pretrained", Swin_T_Weights.IMAGENET1K_V1))
def swin_t(*, weights: Swin_T_Weights | None = None, progress: bool = True,
           **kwargs) -> SwinTransformer:
    """Swin-T: embed 96, depths [2, 2, 6, 2], heads [3, 6, 12, 24], 7x7 windows (28.3M)."""
    record = prepare("swin_t", weights, kwargs)
    stochastic_depth_prob = kwargs.pop("stochastic_depth_prob", 0.2)
    model = SwinTransformer(patch_size=[4, 4], embed_dim=96, depths=[2, 2, 6, 2],
                            num_heads=[3, 6, 12, 24], window_size=[7, 7],
                            stochastic_depth_prob=stochastic_depth_prob, **kwargs)
    return load_weights(model, record, progress)
