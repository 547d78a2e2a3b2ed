"""A small keyword spotter on log-mel spectrograms: a CNN, optionally followed by an LSTM."""

from __future__ import annotations

from taimatsu import Tensor, nn

__all__ = ["KWSNet", "kws_cnn", "kws_cnn_lstm"]


class KWSNet(nn.Module):
    """Conv-batchnorm-relu-maxpool blocks over a log-mel spectrogram, then either global
    average pooling (CNN) or an LSTM over time (CNN-LSTM), dropout and a linear layer.

    Args:
        n_classes: keywords to tell apart
        n_mels: mel bins of the input (only needed with an LSTM)
        channels: output channels of the conv blocks (each halves frequency and time)
        lstm_hidden: hidden size of an LSTM over the conv features' time axis; None: no LSTM
        dropout: before the classifier
    Shape: (batch, n_mels, time) or (batch, 1, n_mels, time) -> (batch, n_classes) logits
    """

    def __init__(self, n_classes: int = 10, n_mels: int = 40, channels=(16, 32, 64),
                 lstm_hidden: int | None = None, dropout: float = 0.2) -> None:
        super().__init__()
        blocks = []
        in_ch = 1
        for out_ch in channels:
            blocks += [nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
                       nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            in_ch = out_ch
        self.features = nn.Sequential(*blocks)
        self.lstm = None
        features = in_ch
        if lstm_hidden is not None:
            freq = n_mels
            for _ in channels:
                freq //= 2
            if freq < 1:
                raise ValueError(f"n_mels={n_mels} is too small for {len(channels)} pooling "
                                 "blocks")
            self.lstm = nn.LSTM(in_ch * freq, lstm_hidden, batch_first=True)
            features = lstm_hidden
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(features, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = self.features(x)  # (batch, channels, freq, time)
        if self.lstm is None:
            x = x.mean(dim=(2, 3))
        else:
            b, c, f, t = x.shape
            x, _ = self.lstm(x.permute(0, 3, 1, 2).reshape(b, t, c * f))
            x = x.mean(dim=1)
        return self.classifier(self.dropout(x))


def kws_cnn(**kwargs) -> KWSNet:
    """The CNN keyword spotter (see KWSNet)."""
    return KWSNet(**kwargs)


def kws_cnn_lstm(lstm_hidden: int = 64, **kwargs) -> KWSNet:
    """The CNN-LSTM keyword spotter (see KWSNet)."""
    return KWSNet(lstm_hidden=lstm_hidden, **kwargs)
