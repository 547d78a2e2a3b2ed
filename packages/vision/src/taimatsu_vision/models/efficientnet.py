"""EfficientNet-B0 (Tan & Le, 2019) with torchvision's layout: `features` (stem, seven
stages of MBConv blocks, a 1x1 conv to 1280 channels), `avgpool`, `classifier`
(dropout, linear). The same classes build the other widths and depths from their
multipliers."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from functools import partial

import taimatsu
from taimatsu import Tensor, nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._utils import _make_divisible, handle_legacy_interface, load_weights, prepare
from ._weights import EfficientNet_B0_Weights

__all__ = ["EfficientNet", "MBConvConfig", "MBConv", "efficientnet_b0"]


class MBConvConfig:
    """One stage of the paper's Table 1, scaled by the width and depth multipliers."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, width_mult: float = 1.0,
                 depth_mult: float = 1.0) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.num_layers = self.adjust_depth(num_layers, depth_mult)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(expand_ratio={self.expand_ratio}, "
                f"kernel={self.kernel}, stride={self.stride}, "
                f"input_channels={self.input_channels}, out_channels={self.out_channels}, "
                f"num_layers={self.num_layers})")

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return int(math.ceil(num_layers * depth_mult))


class MBConv(nn.Module):
    """Mobile inverted bottleneck: expand (when expand_ratio > 1), depthwise, SE (squeezing
    to a quarter of the block's input channels), projection; residual with stochastic depth
    when the shape is kept. SiLU activations."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded, squeeze_channels,
                               activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class EfficientNet(nn.Module):
    """EfficientNet over a list of MBConvConfig stages.

    Args:
        dropout: before the classifier
        stochastic_depth_prob: the drop probability of the last block; it grows linearly
            from 0 over the blocks
        last_channel: width of the final 1x1 conv (default 4x the last stage's channels)
    """

    def __init__(self, inverted_residual_setting: list[MBConvConfig], dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 last_channel: int | None = None) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence)
                and all(isinstance(s, MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3,
                                 stride=2, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep its width and resolution
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(MBConv(block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = (last_channel if last_channel is not None
                                    else 4 * lastconv_input_channels)
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(lastconv_output_channels, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = taimatsu.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def _efficientnet_b0_conf(width_mult: float = 1.0,
                          depth_mult: float = 1.0) -> list[MBConvConfig]:
    conf = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
    # (expand_ratio, kernel, stride, input_channels, out_channels, num_layers)
    return [conf(1, 3, 1, 32, 16, 1), conf(6, 3, 2, 16, 24, 2), conf(6, 5, 2, 24, 40, 2),
            conf(6, 3, 2, 40, 80, 3), conf(6, 5, 1, 80, 112, 3), conf(6, 5, 2, 112, 192, 4),
            conf(6, 3, 1, 192, 320, 1)]


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B0_Weights.IMAGENET1K_V1))
def efficientnet_b0(*, weights: EfficientNet_B0_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B0 (5.3M parameters)."""
    record = prepare("efficientnet_b0", weights, kwargs)
    dropout = kwargs.pop("dropout", 0.2)
    model = EfficientNet(_efficientnet_b0_conf(), dropout, **kwargs)
    return load_weights(model, record, progress)
