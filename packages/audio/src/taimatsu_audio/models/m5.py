"""M5 (Dai et al., 2017): a keyword spotter on raw waveforms, as the torchaudio tutorial."""

from __future__ import annotations

from taimatsu import Tensor, nn
from taimatsu.nn import functional as F

__all__ = ["M5", "m5"]


class M5(nn.Module):
    """Four conv-batchnorm-relu-maxpool blocks over the waveform, global average pooling
    and a linear layer; returns log-probabilities (batch, 1, n_output).

    Args:
        n_input: input channels (1 for mono audio)
        n_output: classes (35 for Speech Commands v0.02)
        stride: the first convolution's stride (its kernel covers 80 samples)
        n_channel: channels of the first two blocks (doubled in the last two)
    Shape: (batch, n_input, time) -> (batch, 1, n_output)
    """

    def __init__(self, n_input: int = 1, n_output: int = 35, stride: int = 16,
                 n_channel: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
        self.bn3 = nn.BatchNorm1d(2 * n_channel)
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(2 * n_channel, 2 * n_channel, kernel_size=3)
        self.bn4 = nn.BatchNorm1d(2 * n_channel)
        self.pool4 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x: Tensor) -> Tensor:
        for conv, bn, pool in ((self.conv1, self.bn1, self.pool1),
                               (self.conv2, self.bn2, self.pool2),
                               (self.conv3, self.bn3, self.pool3),
                               (self.conv4, self.bn4, self.pool4)):
            x = pool(F.relu(bn(conv(x))))
        x = F.avg_pool1d(x, x.shape[-1])
        x = self.fc1(x.permute(0, 2, 1))
        return F.log_softmax(x, dim=2)


def m5(**kwargs) -> M5:
    """M5 with the given keyword arguments (see M5)."""
    return M5(**kwargs)
