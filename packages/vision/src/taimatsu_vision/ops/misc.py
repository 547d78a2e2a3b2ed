"""Building blocks the model zoo shares (torchvision.ops.misc): conv-norm-activation,
squeeze-and-excitation, MLP and Permute. Children are named as torchvision names them,
so state_dicts carry over."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import taimatsu
from taimatsu import Tensor, nn

__all__ = ["Conv2dNormActivation", "SqueezeExcitation", "MLP", "Permute"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then an optional norm layer, then an optional activation.

    Children are "0" (conv), "1" (norm) and "2" (activation), skipping the absent ones.

    Args:
        padding: None gives "same" padding for odd kernels: (kernel_size - 1) // 2 * dilation
        norm_layer: a callable building the norm from the channel count (None for none)
        activation_layer: a callable building the activation (None for none)
        inplace: passed to the activation (None: pass nothing)
        bias: the conv's bias; None means "only when there is no norm layer"
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1,
                 padding=None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation=1, inplace: bool | None = True, bias: bool | None = None) -> None:
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if isinstance(kernel_size, Sequence) else len(dilation)
                ks = _ntuple(kernel_size, n)
                dil = _ntuple(dilation, n)
                padding = tuple((ks[i] - 1) // 2 * dil[i] for i in range(n))
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


def _ntuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, Sequence) else (value,) * n


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): input * gate(fc2(act(fc1(avgpool(input))))).

    fc1 and fc2 are 1x1 convolutions, as in torchvision (state_dict names fc1/fc2).
    """

    def __init__(self, input_channels: int, squeeze_channels: int,
                 activation: Callable[..., nn.Module] = nn.ReLU,
                 scale_activation: Callable[..., nn.Module] = nn.Sigmoid) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)
        scale = self.activation(self.fc1(scale))
        return self.scale_activation(self.fc2(scale))

    def forward(self, input: Tensor) -> Tensor:
        return self._scale(input) * input


class MLP(nn.Sequential):
    """Linear layers with norm/activation/dropout between them (torchvision.ops.MLP).

    For hidden_channels [h1, ..., hn]: (Linear, [norm], activation, Dropout) for each of
    h1..h(n-1), then Linear(.., hn) and Dropout — so a two-layer MLP is indexed
    0 Linear, 1 act, 2 Dropout, 3 Linear, 4 Dropout.
    """

    def __init__(self, in_channels: int, hidden_channels: list[int],
                 norm_layer: Callable[..., nn.Module] | None = None,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 inplace: bool | None = None, bias: bool = True, dropout: float = 0.0) -> None:
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(nn.Module):
    """Permutes the input's dims (a layer, so it can sit inside a Sequential)."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return taimatsu.permute(x, self.dims)
