"""MobileNetV3 (Howard et al., 2019), large and small, with torchvision's layout:
`features` (stem, inverted residual blocks with optional squeeze-and-excitation, a 1x1
conv to 6x the last block's channels), `avgpool`, `classifier` (linear, hardswish,
dropout, linear). Batch norms use eps 0.001 and momentum 0.01, as torchvision's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import taimatsu
from taimatsu import Tensor, nn

from ..ops.misc import Conv2dNormActivation
from ..ops.misc import SqueezeExcitation as SElayer
from ._api import register_model
from ._utils import _make_divisible, handle_legacy_interface, load_weights, prepare
from ._weights import MobileNet_V3_Large_Weights, MobileNet_V3_Small_Weights

__all__ = ["MobileNetV3", "InvertedResidualConfig", "InvertedResidual", "mobilenet_v3_large",
           "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One block of the paper's Tables 1 and 2; channel counts scaled by width_mult."""

    def __init__(self, input_channels: int, kernel: int, expanded_channels: int,
                 out_channels: int, use_se: bool, activation: str, stride: int, dilation: int,
                 width_mult: float) -> None:
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"  # "HS": hardswish, "RE": ReLU
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return _make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    """Expand (when needed), depthwise, optional SE, linear projection; residual when the
    shape is kept."""

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = partial(
                     SElayer, scale_activation=nn.Hardsigmoid)) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels,
                                               kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=activation_layer))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels,
                                           kernel_size=cnf.kernel, stride=stride,
                                           dilation=cnf.dilation,
                                           groups=cnf.expanded_channels,
                                           norm_layer=norm_layer,
                                           activation_layer=activation_layer))
        if cnf.use_se:
            squeeze_channels = _make_divisible(cnf.expanded_channels // 4, 8)
            layers.append(se_layer(cnf.expanded_channels, squeeze_channels))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MobileNetV3(nn.Module):
    """MobileNetV3 over a list of InvertedResidualConfig.

    Args:
        last_channel: width of the classifier's hidden layer
        dropout: in the classifier
    """

    def __init__(self, inverted_residual_setting: list[InvertedResidualConfig],
                 last_channel: int, num_classes: int = 1000,
                 block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None, dropout: float = 0.2,
                 **kwargs) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence)
                and all(isinstance(s, InvertedResidualConfig)
                        for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be "
                            "List[InvertedResidualConfig]")
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3,
                                 stride=2, norm_layer=norm_layer,
                                 activation_layer=nn.Hardswish)]
        for cnf in inverted_residual_setting:
            layers.append(block(cnf, norm_layer))
        lastconv_input_channels = inverted_residual_setting[-1].out_channels
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(lastconv_output_channels, last_channel), nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = taimatsu.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False) -> tuple[list[InvertedResidualConfig], int]:
    """The block list and classifier width of the large or small model.

    reduced_tail halves the channels of the last stage; dilated dilates it (both for
    dense prediction backbones).
    """
    rd = 2 if reduced_tail else 1
    dil = 2 if dilated else 1
    conf = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == "mobilenet_v3_large":
        # (in, kernel, expanded, out, SE, activation, stride, dilation)
        setting = [
            conf(16, 3, 16, 16, False, "RE", 1, 1),
            conf(16, 3, 64, 24, False, "RE", 2, 1),
            conf(24, 3, 72, 24, False, "RE", 1, 1),
            conf(24, 5, 72, 40, True, "RE", 2, 1),
            conf(40, 5, 120, 40, True, "RE", 1, 1),
            conf(40, 5, 120, 40, True, "RE", 1, 1),
            conf(40, 3, 240, 80, False, "HS", 2, 1),
            conf(80, 3, 200, 80, False, "HS", 1, 1),
            conf(80, 3, 184, 80, False, "HS", 1, 1),
            conf(80, 3, 184, 80, False, "HS", 1, 1),
            conf(80, 3, 480, 112, True, "HS", 1, 1),
            conf(112, 3, 672, 112, True, "HS", 1, 1),
            conf(112, 5, 672, 160 // rd, True, "HS", 2, dil),
            conf(160 // rd, 5, 960 // rd, 160 // rd, True, "HS", 1, dil),
            conf(160 // rd, 5, 960 // rd, 160 // rd, True, "HS", 1, dil),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1280 // rd, width_mult)
    elif arch == "mobilenet_v3_small":
        setting = [
            conf(16, 3, 16, 16, True, "RE", 2, 1),
            conf(16, 3, 72, 24, False, "RE", 2, 1),
            conf(24, 3, 88, 24, False, "RE", 1, 1),
            conf(24, 5, 96, 40, True, "HS", 2, 1),
            conf(40, 5, 240, 40, True, "HS", 1, 1),
            conf(40, 5, 240, 40, True, "HS", 1, 1),
            conf(40, 5, 120, 48, True, "HS", 1, 1),
            conf(48, 5, 144, 48, True, "HS", 1, 1),
            conf(48, 5, 288, 96 // rd, True, "HS", 2, dil),
            conf(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, dil),
            conf(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, dil),
        ]
        last_channel = InvertedResidualConfig.adjust_channels(1024 // rd, width_mult)
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return setting, last_channel


_CONF_KWARGS = ("width_mult", "reduced_tail", "dilated")


def _mobilenet_v3(arch: str, weights, progress: bool, kwargs: dict) -> MobileNetV3:
    record = prepare(arch, weights, kwargs)
    conf = {k: kwargs.pop(k) for k in _CONF_KWARGS if k in kwargs}
    setting, last_channel = _mobilenet_v3_conf(arch, **conf)
    return load_weights(MobileNetV3(setting, last_channel, **kwargs), record, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def mobilenet_v3_large(*, weights: MobileNet_V3_Large_Weights | None = None, progress: bool = True,
                       **kwargs) -> MobileNetV3:
    """MobileNetV3-Large (5.5M parameters)."""
    return _mobilenet_v3("mobilenet_v3_large", weights, progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", MobileNet_V3_Small_Weights.IMAGENET1K_V1))
def mobilenet_v3_small(*, weights: MobileNet_V3_Small_Weights | None = None, progress: bool = True,
                       **kwargs) -> MobileNetV3:
    """MobileNetV3-Small (2.5M parameters)."""
    return _mobilenet_v3("mobilenet_v3_small", weights, progress, kwargs)
