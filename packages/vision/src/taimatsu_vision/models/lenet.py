"""LeNet-5 (LeCun et al., 1998) in its common modern form.

Layout (children named so the state_dict reads like a torchvision model):

    features:   0 Conv2d(in_channels, 6, 5, padding)  1 ReLU  2 MaxPool2d(2)
                3 Conv2d(6, 16, 5)                     4 ReLU  5 MaxPool2d(2)
    classifier: 0 Linear(16*5*5, 120)  1 ReLU  2 Linear(120, 84)  3 ReLU
                4 Linear(84, num_classes)

With padding=2 (the default) it takes 28x28 images (MNIST); with padding=0 it takes the
paper's 32x32 inputs. Both reach 16x5x5 features. The paper's scaled-tanh units and
trainable subsampling are replaced by ReLU and max-pooling, as usual today.
"""

from __future__ import annotations

import taimatsu
from taimatsu import Tensor, nn

from ._api import register_model
from ._utils import handle_legacy_interface, load_weights, prepare

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 for (N, in_channels, 28, 28) inputs (padding=2) or 32x32 ones (padding=0)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(inplace=True), nn.Linear(120, 84),
            nn.ReLU(inplace=True), nn.Linear(84, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(taimatsu.flatten(self.features(x), 1))


@register_model()
@handle_legacy_interface(weights=("pretrained", None))
def lenet5(*, weights: None = None, progress: bool = True, **kwargs) -> LeNet5:
    """LeNet-5 (61.7k parameters for 10 classes and padding=2); see LeNet5."""
    record = prepare("lenet5", weights, kwargs)
    return load_weights(LeNet5(**kwargs), record, progress)
