"""taimatsu_vision.models against the same architectures written in plain PyTorch.

torchvision is not a dependency, so each family is re-built below with torch.nn and
torchvision's module names and init-free structure. The PyTorch model's state_dict is
loaded strictly into ours (so names and shapes must match torchvision's exactly), its
normalization statistics and scales are randomized first (so eval-mode batch norms and
layer scales are not identities), and the logits must agree to 1e-4 (relative to their
scale). Small inputs keep the default run fast; the full-size checks are marked slow.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

import taimatsu as tm  # noqa: E402
from taimatsu.testing import check_module_parity  # noqa: E402
from taimatsu_vision import models  # noqa: E402

# -- PyTorch references, named as torchvision names them ----------------------------------


def _cna(cin, cout, k=3, s=1, groups=1, norm=tnn.BatchNorm2d, act=tnn.ReLU, padding=None,
         dilation=1, bias=None):
    """Conv2dNormActivation: a Sequential (0 conv, 1 norm, 2 activation)."""
    padding = (k - 1) // 2 * dilation if padding is None else padding
    bias = norm is None if bias is None else bias
    layers = [tnn.Conv2d(cin, cout, k, s, padding, dilation=dilation, groups=groups, bias=bias)]
    if norm is not None:
        layers.append(norm(cout))
    if act is not None:
        layers.append(act())
    return tnn.Sequential(*layers)


class TSE(tnn.Module):
    def __init__(self, cin, squeeze, act=tnn.ReLU, scale_act=tnn.Sigmoid):
        super().__init__()
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc1 = tnn.Conv2d(cin, squeeze, 1)
        self.fc2 = tnn.Conv2d(squeeze, cin, 1)
        self.activation = act()
        self.scale_activation = scale_act()

    def forward(self, x):
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return s * x


def _div(v, d=8):
    new_v = max(d, int(v + d / 2) // d * d)
    return new_v + d if new_v < 0.9 * v else new_v


class TBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TResNet(tnn.Module):
    def __init__(self, block, layers, groups=1, width_per_group=64, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                down = tnn.Sequential(
                    tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                    tnn.BatchNorm2d(planes * block.expansion))
            blocks = [block(self.inplanes, planes, stride, down, groups, width_per_group)]
            self.inplanes = planes * block.expansion
            blocks += [block(self.inplanes, planes, 1, None, groups, width_per_group)
                       for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


VGG_CFGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512,
              512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


class TVGG(tnn.Module):
    def __init__(self, cfg, bn):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
                continue
            layers.append(tnn.Conv2d(cin, v, 3, padding=1))
            if bn:
                layers.append(tnn.BatchNorm2d(v))
            layers.append(tnn.ReLU())
            cin = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
        self.classifier = tnn.Sequential(
            tnn.Linear(512 * 49, 4096), tnn.ReLU(), tnn.Dropout(),
            tnn.Linear(4096, 4096), tnn.ReLU(), tnn.Dropout(), tnn.Linear(4096, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TInvertedResidualV2(tnn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.use_res = stride == 1 and inp == oup
        layers = [] if t == 1 else [_cna(inp, hidden, 1, act=tnn.ReLU6)]
        layers += [_cna(hidden, hidden, 3, stride, groups=hidden, act=tnn.ReLU6),
                   tnn.Conv2d(hidden, oup, 1, bias=False), tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class TMobileNetV2(tnn.Module):
    def __init__(self):
        super().__init__()
        setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                   [6, 160, 3, 2], [6, 320, 1, 1]]
        features, cin = [_cna(3, 32, 3, 2, act=tnn.ReLU6)], 32
        for t, c, n, s in setting:
            for i in range(n):
                features.append(TInvertedResidualV2(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(_cna(cin, 1280, 1, act=tnn.ReLU6))
        self.features = tnn.Sequential(*features)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, 1000))

    def forward(self, x):
        x = TF.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


MNV3 = {  # (in, kernel, expanded, out, SE, hardswish, stride)
    "mobilenet_v3_large": ([
        (16, 3, 16, 16, 0, 0, 1), (16, 3, 64, 24, 0, 0, 2), (24, 3, 72, 24, 0, 0, 1),
        (24, 5, 72, 40, 1, 0, 2), (40, 5, 120, 40, 1, 0, 1), (40, 5, 120, 40, 1, 0, 1),
        (40, 3, 240, 80, 0, 1, 2), (80, 3, 200, 80, 0, 1, 1), (80, 3, 184, 80, 0, 1, 1),
        (80, 3, 184, 80, 0, 1, 1), (80, 3, 480, 112, 1, 1, 1), (112, 3, 672, 112, 1, 1, 1),
        (112, 5, 672, 160, 1, 1, 2), (160, 5, 960, 160, 1, 1, 1), (160, 5, 960, 160, 1, 1, 1),
    ], 1280),
    "mobilenet_v3_small": ([
        (16, 3, 16, 16, 1, 0, 2), (16, 3, 72, 24, 0, 0, 2), (24, 3, 88, 24, 0, 0, 1),
        (24, 5, 96, 40, 1, 1, 2), (40, 5, 240, 40, 1, 1, 1), (40, 5, 240, 40, 1, 1, 1),
        (40, 5, 120, 48, 1, 1, 1), (48, 5, 144, 48, 1, 1, 1), (48, 5, 288, 96, 1, 1, 2),
        (96, 5, 576, 96, 1, 1, 1), (96, 5, 576, 96, 1, 1, 1),
    ], 1024),
}


class TInvertedResidualV3(tnn.Module):
    def __init__(self, cin, k, exp, cout, se, hs, stride, norm):
        super().__init__()
        act = tnn.Hardswish if hs else tnn.ReLU
        self.use_res = stride == 1 and cin == cout
        layers = [] if exp == cin else [_cna(cin, exp, 1, norm=norm, act=act)]
        layers.append(_cna(exp, exp, k, stride, groups=exp, norm=norm, act=act))
        if se:
            layers.append(TSE(exp, _div(exp // 4), scale_act=tnn.Hardsigmoid))
        layers.append(_cna(exp, cout, 1, norm=norm, act=None))
        self.block = tnn.Sequential(*layers)

    def forward(self, x):
        return self.block(x) + x if self.use_res else self.block(x)


class TMobileNetV3(tnn.Module):
    def __init__(self, arch):
        super().__init__()
        setting, last = MNV3[arch]
        norm = partial(tnn.BatchNorm2d, eps=0.001, momentum=0.01)
        layers = [_cna(3, setting[0][0], 3, 2, norm=norm, act=tnn.Hardswish)]
        layers += [TInvertedResidualV3(*row, norm) for row in setting]
        cout = 6 * setting[-1][3]
        layers.append(_cna(setting[-1][3], cout, 1, norm=norm, act=tnn.Hardswish))
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.classifier = tnn.Sequential(tnn.Linear(cout, last), tnn.Hardswish(),
                                         tnn.Dropout(0.2), tnn.Linear(last, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TMBConv(tnn.Module):
    def __init__(self, t, k, stride, cin, cout):
        super().__init__()
        self.use_res = stride == 1 and cin == cout
        exp = _div(cin * t)
        layers = [] if exp == cin else [_cna(cin, exp, 1, act=tnn.SiLU)]
        layers += [_cna(exp, exp, k, stride, groups=exp, act=tnn.SiLU),
                   TSE(exp, max(1, cin // 4), act=tnn.SiLU),
                   _cna(exp, cout, 1, act=None)]
        self.block = tnn.Sequential(*layers)

    def forward(self, x):
        return self.block(x) + x if self.use_res else self.block(x)


class TEfficientNetB0(tnn.Module):
    def __init__(self):
        super().__init__()
        setting = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                   (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                   (6, 3, 1, 192, 320, 1)]
        layers = [_cna(3, 32, 3, 2, act=tnn.SiLU)]
        for t, k, s, cin, cout, n in setting:
            layers.append(tnn.Sequential(*[
                TMBConv(t, k, s if i == 0 else 1, cin if i == 0 else cout, cout)
                for i in range(n)]))
        layers.append(_cna(320, 1280, 1, act=tnn.SiLU))
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TPermute(tnn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class TLayerNorm2d(tnn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class TCNBlock(tnn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = tnn.Sequential(
            tnn.Conv2d(dim, dim, 7, padding=3, groups=dim), TPermute([0, 2, 3, 1]),
            tnn.LayerNorm(dim, eps=1e-6), tnn.Linear(dim, 4 * dim), tnn.GELU(),
            tnn.Linear(4 * dim, dim), TPermute([0, 3, 1, 2]))
        self.layer_scale = tnn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        return self.layer_scale * self.block(x) + x


class TConvNeXtTiny(tnn.Module):
    def __init__(self):
        super().__init__()
        norm = partial(TLayerNorm2d, eps=1e-6)
        layers = [_cna(3, 96, 4, 4, norm=norm, act=None, padding=0, bias=True)]
        for cin, cout, n in ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)):
            layers.append(tnn.Sequential(*[TCNBlock(cin) for _ in range(n)]))
            if cout is not None:
                layers.append(tnn.Sequential(norm(cin), tnn.Conv2d(cin, cout, 2, 2)))
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.classifier = tnn.Sequential(norm(768), tnn.Flatten(1), tnn.Linear(768, 1000))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


class TEncoderBlock(tnn.Module):
    def __init__(self, heads, dim, mlp_dim):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(dim, eps=1e-6)
        self.self_attention = tnn.MultiheadAttention(dim, heads, batch_first=True)
        self.dropout = tnn.Dropout(0.0)
        self.ln_2 = tnn.LayerNorm(dim, eps=1e-6)
        self.mlp = tnn.Sequential(tnn.Linear(dim, mlp_dim), tnn.GELU(), tnn.Dropout(0.0),
                                  tnn.Linear(mlp_dim, dim), tnn.Dropout(0.0))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class TViT(tnn.Module):
    def __init__(self, image_size, patch, layers, heads, dim, mlp_dim, num_classes=1000):
        super().__init__()
        self.patch, self.dim = patch, dim
        self.conv_proj = tnn.Conv2d(3, dim, patch, patch)
        self.class_token = tnn.Parameter(torch.zeros(1, 1, dim))
        seq = (image_size // patch) ** 2 + 1
        self.encoder = tnn.Module()
        self.encoder.pos_embedding = tnn.Parameter(torch.randn(1, seq, dim) * 0.02)
        self.encoder.layers = tnn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", TEncoderBlock(heads, dim, mlp_dim)) for i in range(layers)))
        self.encoder.ln = tnn.LayerNorm(dim, eps=1e-6)
        self.heads = tnn.Sequential(OrderedDict(head=tnn.Linear(dim, num_classes)))

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], 1)
        e = self.encoder
        return self.heads(e.ln(e.layers(x + e.pos_embedding))[:, 0])


def _swin_attention(mod, x):
    """torchvision's shifted_window_attention (v1) on (B, H, W, C)."""
    ws, shift, heads = mod.window_size, list(mod.shift_size), mod.num_heads
    b, h, w, c = x.shape
    pad_r, pad_b = (ws[1] - w % ws[1]) % ws[1], (ws[0] - h % ws[0]) % ws[0]
    x = TF.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    _, ph, pw, _ = x.shape
    shift = [0 if ws[0] >= ph else shift[0], 0 if ws[1] >= pw else shift[1]]
    if sum(shift):
        x = torch.roll(x, (-shift[0], -shift[1]), (1, 2))
    nw, n = (ph // ws[0]) * (pw // ws[1]), ws[0] * ws[1]
    x = x.view(b, ph // ws[0], ws[0], pw // ws[1], ws[1], c).permute(0, 1, 3, 2, 4, 5)
    x = x.reshape(b * nw, n, c)
    qkv = mod.qkv(x).reshape(b * nw, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * (c // heads) ** -0.5, qkv[1], qkv[2]
    table = mod.relative_position_bias_table[mod.relative_position_index]
    attn = q @ k.transpose(-2, -1) + table.view(n, n, -1).permute(2, 0, 1)[None]
    if sum(shift):
        mask = x.new_zeros((ph, pw))
        cnt = 0
        for hs in ((0, -ws[0]), (-ws[0], -shift[0]), (-shift[0], None)):
            for wsl in ((0, -ws[1]), (-ws[1], -shift[1]), (-shift[1], None)):
                mask[hs[0]:hs[1], wsl[0]:wsl[1]] = cnt
                cnt += 1
        mask = mask.view(ph // ws[0], ws[0], pw // ws[1], ws[1]).permute(0, 2, 1, 3)
        mask = mask.reshape(nw, n)
        mask = mask[:, None] - mask[:, :, None]
        mask = mask.masked_fill(mask != 0, -100.0)
        attn = (attn.view(b, nw, heads, n, n) + mask[None, :, None]).view(-1, heads, n, n)
    x = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b * nw, n, c)
    x = mod.proj(x).view(b, ph // ws[0], pw // ws[1], ws[0], ws[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c)
    if sum(shift):
        x = torch.roll(x, (shift[0], shift[1]), (1, 2))
    return x[:, :h, :w]


class TWindowAttention(tnn.Module):
    def __init__(self, dim, ws, shift, heads):
        super().__init__()
        self.window_size, self.shift_size, self.num_heads = ws, shift, heads
        self.qkv = tnn.Linear(dim, 3 * dim)
        self.proj = tnn.Linear(dim, dim)
        self.relative_position_bias_table = tnn.Parameter(
            torch.randn((2 * ws[0] - 1) * (2 * ws[1] - 1), heads) * 0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(ws[0]), torch.arange(ws[1]),
                                            indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += ws[0] - 1
        rel[:, :, 1] += ws[1] - 1
        rel[:, :, 0] *= 2 * ws[1] - 1
        self.register_buffer("relative_position_index", rel.sum(-1).flatten())

    def forward(self, x):
        return _swin_attention(self, x)


class TSwinBlock(tnn.Module):
    def __init__(self, dim, heads, shift):
        super().__init__()
        self.norm1 = tnn.LayerNorm(dim)
        self.attn = TWindowAttention(dim, [7, 7], [shift, shift], heads)
        self.norm2 = tnn.LayerNorm(dim)
        self.mlp = tnn.Sequential(tnn.Linear(dim, 4 * dim), tnn.GELU(), tnn.Dropout(0.0),
                                  tnn.Linear(4 * dim, dim), tnn.Dropout(0.0))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TPatchMerging(tnn.Module):
    def __init__(self, dim):
        super().__init__()
        self.reduction = tnn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = tnn.LayerNorm(4 * dim)

    def forward(self, x):
        h, w = x.shape[-3:-1]
        x = TF.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :],
                       x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


class TSwinT(tnn.Module):
    def __init__(self):
        super().__init__()
        layers = [tnn.Sequential(tnn.Conv2d(3, 96, 4, 4), TPermute([0, 2, 3, 1]),
                                 tnn.LayerNorm(96))]
        for i, (depth, heads) in enumerate(zip((2, 2, 6, 2), (3, 6, 12, 24))):
            dim = 96 * 2**i
            layers.append(tnn.Sequential(*[TSwinBlock(dim, heads, 0 if j % 2 == 0 else 3)
                                           for j in range(depth)]))
            if i < 3:
                layers.append(TPatchMerging(dim))
        self.features = tnn.Sequential(*layers)
        self.norm = tnn.LayerNorm(768)
        self.head = tnn.Linear(768, 1000)

    def forward(self, x):
        x = self.norm(self.features(x)).permute(0, 3, 1, 2)
        return self.head(TF.adaptive_avg_pool2d(x, 1).flatten(1))


class TLeNet5(tnn.Module):
    def __init__(self, padding=2):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=padding), tnn.ReLU(),
                                       tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
                                       tnn.MaxPool2d(2))
        self.classifier = tnn.Sequential(tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84),
                                         tnn.ReLU(), tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


RESNETS = {
    "resnet18": (TBasicBlock, [2, 2, 2, 2], {}), "resnet34": (TBasicBlock, [3, 4, 6, 3], {}),
    "resnet50": (TBottleneck, [3, 4, 6, 3], {}), "resnet101": (TBottleneck, [3, 4, 23, 3], {}),
    "resnet152": (TBottleneck, [3, 8, 36, 3], {}),
    "resnext50_32x4d": (TBottleneck, [3, 4, 6, 3], {"groups": 32, "width_per_group": 4}),
    "wide_resnet50_2": (TBottleneck, [3, 4, 6, 3], {"width_per_group": 128}),
}


def reference(name: str, **kwargs):
    """The PyTorch twin of our builder `name`."""
    if name in RESNETS:
        block, layers, extra = RESNETS[name]
        return TResNet(block, layers, **extra)
    if name.startswith("vgg"):
        return TVGG(VGG_CFGS[name.removesuffix("_bn")], name.endswith("_bn"))
    if name.startswith("vit_b_"):
        return TViT(kwargs.get("image_size", 224), int(name[-2:]), 12, 12, 768, 3072)
    return {"mobilenet_v2": TMobileNetV2, "efficientnet_b0": TEfficientNetB0,
            "convnext_tiny": TConvNeXtTiny, "swin_t": TSwinT, "lenet5": TLeNet5,
            "mobilenet_v3_large": partial(TMobileNetV3, "mobilenet_v3_large"),
            "mobilenet_v3_small": partial(TMobileNetV3, "mobilenet_v3_small")}[name]()


# -- the checks ---------------------------------------------------------------------------


def _randomize(module) -> None:
    """Non-trivial statistics and affine parameters, so eval-mode norms and layer scales
    change the result (a missed or swapped one then shows)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            if isinstance(m, (tnn.BatchNorm2d, tnn.LayerNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        for name, p in module.named_parameters():
            if name.endswith("layer_scale") or name.endswith("class_token"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            if name.startswith("heads.head") or name.startswith("fc.") or ".head" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def _state_dict_for_taimatsu(module) -> dict:
    return {k: tm.from_numpy(v.detach().numpy().copy()) for k, v in module.state_dict().items()}


def check_logits(name: str, size: int, batch: int = 2, **kwargs) -> None:
    torch.manual_seed(0)
    theirs = reference(name, **kwargs).eval()
    _randomize(theirs)
    ours = models.BUILDERS[name](**kwargs).eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in theirs.parameters())
    ours.load_state_dict(_state_dict_for_taimatsu(theirs))  # strict: same names and shapes
    channels = 1 if name == "lenet5" else 3
    x = np.random.default_rng(1).standard_normal((batch, channels, size, size))
    x = x.astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with tm.no_grad():
        got = ours(tm.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    scale = max(float(np.abs(expected).max()), 1e-3)
    np.testing.assert_allclose(got / scale, expected / scale, rtol=1e-4, atol=1e-4)


# swin_t at 64: 16x16 and 8x8 maps are padded to whole 7x7 windows, 4x4 and 2x2 ones
# fit in one window (no shift) -- every branch of the window attention runs.
FAST = [("lenet5", 28), ("resnet18", 64), ("resnet50", 32), ("mobilenet_v2", 64),
        ("mobilenet_v3_small", 64), ("mobilenet_v3_large", 64), ("efficientnet_b0", 64),
        ("convnext_tiny", 32), ("swin_t", 64)]
SLOW = [("resnet34", 64), ("resnet50", 224), ("resnet101", 64), ("resnet152", 224), ("resnext50_32x4d", 64),
        ("wide_resnet50_2", 64), ("vgg11", 32), ("vgg11_bn", 32), ("vgg13", 32),
        ("vgg13_bn", 32), ("vgg16", 32), ("vgg16_bn", 32), ("vgg19", 32), ("vgg19_bn", 32),
        ("resnet18", 224), ("convnext_tiny", 224), ("swin_t", 224), ("efficientnet_b0", 224)]


@pytest.mark.parametrize("name,size", FAST, ids=[f"{n}-{s}" for n, s in FAST])
def test_logits_match_torch(name, size):
    check_logits(name, size)


@pytest.mark.slow
@pytest.mark.parametrize("name,size", SLOW, ids=[f"{n}-{s}" for n, s in SLOW])
def test_logits_match_torch_large(name, size):
    check_logits(name, size, batch=1 if size == 224 else 2)


@pytest.mark.parametrize("name", ["vit_b_16", "vit_b_32"])
def test_vit_logits_match_torch_small_image(name):
    # image_size sets the position-embedding length: 32 gives 4 patches or 1
    check_logits(name, 32, image_size=32)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vit_b_16", "vit_b_32"])
def test_vit_logits_match_torch_224(name):
    check_logits(name, 224, batch=1)


def test_resnet18_training_step_matches_torch():
    """Train mode: batch statistics, running-stat updates, and every parameter gradient.

    In float64: in float32 the ~1e-5 differences of summation order can flip a ReLU whose
    input is within that of zero, which changes gradients by O(1) -- true of any two
    implementations, so it would make the comparison depend on the random weights.
    """
    torch.manual_seed(0)
    theirs = reference("resnet18").double()
    ours = models.resnet18().double()
    # 4 x 64 x 64 leaves layer4 2x2 maps: 16 values per batch-norm channel
    x = np.random.default_rng(2).standard_normal((4, 3, 64, 64))
    check_module_parity(ours, theirs, x, rtol=1e-8, atol=1e-9, train=True)


def test_lenet5_training_step_matches_torch():
    x = np.random.default_rng(3).standard_normal((4, 1, 28, 28)).astype(np.float32)
    check_module_parity(models.lenet5(), reference("lenet5"), x, rtol=1e-5, atol=1e-6,
                        train=True)


def test_lenet5_without_padding_takes_32x32():
    theirs = TLeNet5(padding=0).eval()
    ours = models.lenet5(padding=0).eval()
    ours.load_state_dict(_state_dict_for_taimatsu(theirs))
    x = np.random.default_rng(4).standard_normal((2, 1, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with tm.no_grad():
        got = ours(tm.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,conv_std", [
    ("resnet18", lambda w: math.sqrt(2.0 / (w.shape[0] * w.shape[2] * w.shape[3]))),
    ("mobilenet_v2", lambda w: math.sqrt(2.0 / (w.shape[0] * w.shape[2] * w.shape[3]))),
])
def test_conv_init_is_kaiming_fan_out(name, conv_std):
    """torchvision's init: kaiming normal, fan_out, ReLU gain."""
    model = models.BUILDERS[name]()
    for m in model.modules():
        if isinstance(m, tm.nn.Conv2d) and m.weight.numel() > 20000:
            w = m.weight.detach().numpy()
            assert abs(w.std() - conv_std(w)) < 0.05 * conv_std(w)
            assert abs(w.mean()) < 0.1 * conv_std(w)
