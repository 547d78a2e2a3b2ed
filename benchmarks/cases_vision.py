"""Vision benchmarks: ResNet-18 inference and a training step at 224x224.

The taimatsu side is `taimatsu_vision.models.resnet18`; the PyTorch side is the same
architecture (torchvision's ResNet-18, written below with torch.nn since torchvision is
not a dependency), built in the same run. Both start from the same weights: the torch
model's state_dict is loaded into ours.
"""

from __future__ import annotations

from harness import Case, Target


def _torch_resnet18():
    """torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2], stride on the first 3x3)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            chans = [64, 64, 128, 256, 512]
            for i in range(4):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(
                    Block(chans[i], chans[i + 1], stride), Block(chans[i + 1], chans[i + 1], 1)))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    torch.manual_seed(0)
    return ResNet18()


def _taimatsu_resnet18():
    """Ours, with the torch model's weights (so both run the same numbers)."""
    import taimatsu as tm
    from taimatsu_vision.models import resnet18

    model = resnet18()
    state = {k: tm.from_numpy(v.detach().numpy().copy())
             for k, v in _torch_resnet18().state_dict().items()}
    model.load_state_dict(state)
    return model


def _inputs(lib, batch):
    import numpy as np

    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((batch, 3, 224, 224), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 1000, batch))
    return x, y


def _inference(lib, model):
    model.eval()
    x, _ = _inputs(lib, 8)

    def step():
        with lib.no_grad():
            return model(x)

    return step


def _train_step(lib, model):
    model.train()
    x, y = _inputs(lib, 16)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def resnet18_infer_taimatsu():
    import taimatsu

    return _inference(taimatsu, _taimatsu_resnet18())


def resnet18_infer_torch():
    import torch

    return _inference(torch, _torch_resnet18())


def resnet18_train_taimatsu():
    import taimatsu

    return _train_step(taimatsu, _taimatsu_resnet18())


def resnet18_train_torch():
    import torch

    return _train_step(torch, _torch_resnet18())


# 1.81 G multiply-adds (3.63 GFLOP) per 224x224 image forward; a training step ~3x that
_FWD_FLOPS = 2 * 1.814e9

CASES: list[Case] = [
    Case("resnet18_infer_b8", resnet18_infer_taimatsu, resnet18_infer_torch,
         description="ResNet-18 eval forward, batch 8, 3x224x224, no_grad",
         flops=8 * _FWD_FLOPS, target=Target(2.0)),
    Case("resnet18_train_b16", resnet18_train_taimatsu, resnet18_train_torch,
         description="ResNet-18 training step (forward, cross-entropy, backward, SGD with "
                     "momentum), batch 16, 3x224x224",
         flops=3 * 16 * _FWD_FLOPS, target=Target(2.0)),
]
