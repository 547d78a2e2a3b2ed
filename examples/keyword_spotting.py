"""Keyword spotting on speech_commands_synth: log-mel features, SpecAugment and a CNN.

The 360 utterances (10 words, 12 synthetic voices x 3 speeds) ship with taimatsu-audio.
Whole voices are held out for testing, so the model is scored on speakers it never heard.
A picture of a few utterances' log-mel spectrograms is saved as a PNG.

    python examples/keyword_spotting.py [--epochs 40] [--test-voices 3] [--quiet]
        [--png keyword_spotting.png]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

import taimatsu as tm
from taimatsu import nn
from taimatsu.utils.data import DataLoader, TensorDataset
from taimatsu_audio import transforms as T
from taimatsu_audio.datasets import SpeechCommandsFolder, speech_commands_synth_root
from taimatsu_audio.models import KWSNet

SAMPLE_RATE = 16000
CLIP = SAMPLE_RATE  # every utterance is zero-padded (centred) to one second


def load_clips(root: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(waveforms (n, CLIP), labels (n,), voices (n,), class names) of the folder."""
    data = SpeechCommandsFolder(root)
    clips = np.zeros((len(data), CLIP), dtype=np.float32)
    for i in range(len(data)):
        waveform, sample_rate, *_ = data[i]
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"{data.paths[i]} is {sample_rate} Hz, expected {SAMPLE_RATE}")
        wave = waveform[0].numpy()[:CLIP]
        start = (CLIP - len(wave)) // 2
        clips[i, start:start + len(wave)] = wave
    # speaker ids are "<voice>_<speed>": the voice is what the split keeps apart
    voices = np.array([s.rsplit("_", 1)[0] for s in data.speaker_ids])
    return clips, data.targets, voices, data.classes


def split_by_voice(voices: np.ndarray, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/test masks holding out n_test whole voices (every k-th, sorted)."""
    names = sorted(set(voices))
    if not 0 < n_test < len(names):
        raise ValueError(f"--test-voices must be between 1 and {len(names) - 1}")
    step = len(names) / n_test
    held_out = {names[int(i * step)] for i in range(n_test)}
    test = np.isin(voices, sorted(held_out))
    return ~test, test


class LogMel(nn.Module):
    """Waveform (batch, time) -> log-mel (batch, 1, n_mels, frames), standardised per
    utterance. A faint noise floor (-66 dBFS) is added first, so the silence around a word
    looks the same whatever the recording's length."""

    def __init__(self, n_mels: int, hop_length: int):
        super().__init__()
        self.mel = T.MelSpectrogram(SAMPLE_RATE, n_fft=400, hop_length=hop_length,
                                    n_mels=n_mels)
        self.to_db = T.AmplitudeToDB(top_db=80.0)

    def forward(self, waveform):
        waveform = waveform + 5e-4 * tm.randn(waveform.shape)
        x = self.to_db(self.mel(waveform))
        mean = x.mean(dim=(-2, -1), keepdim=True)
        std = x.std(dim=(-2, -1), keepdim=True)
        return ((x - mean) / (std + 1e-5)).unsqueeze(1)


def shift(batch: tm.Tensor, max_freq: int, max_time: int) -> tm.Tensor:
    """Rolls each example by its own random number of mel bins and frames: voices differ
    in pitch and formants (a shift on the mel axis), words in where they start."""
    n, _, n_mels, frames = batch.shape
    df = tm.randint(-max_freq, max_freq + 1, (n, 1, 1, 1))
    dt = tm.randint(-max_time, max_time + 1, (n, 1, 1, 1))
    rows = (tm.arange(n_mels).reshape(1, 1, -1, 1) - df) % n_mels
    cols = (tm.arange(frames).reshape(1, 1, 1, -1) - dt) % frames
    batch = tm.gather(batch, 2, rows.expand(n, 1, n_mels, frames))
    return tm.gather(batch, 3, cols.expand(n, 1, n_mels, frames))


def accuracy(model: nn.Module, features: tm.Tensor, labels: tm.Tensor, max_shift: int) -> float:
    """Test accuracy, averaging the predictions over mel-axis shifts of up to max_shift
    bins (the voices held out may sit higher or lower than those trained on)."""
    model.eval()
    with tm.no_grad():
        probs = sum(tm.softmax(model(tm.roll(features, s, dims=-2)), dim=1)
                    for s in range(-max_shift, max_shift + 1))
    model.train()
    return float((probs.argmax(dim=1) == labels).float().mean().item())


def save_spectrogram_png(features: np.ndarray, titles: list[str], path: str) -> None:
    """A grid of log-mel images (low frequencies at the bottom) with their words."""
    cols = min(5, len(features))
    rows = (len(features) + cols - 1) // cols
    scale, pad, caption = 3, 6, 14
    n_mels, frames = features.shape[-2:]
    cell_w, cell_h = frames * scale, n_mels * scale
    sheet = Image.new("RGB", (cols * (cell_w + pad) + pad,
                              rows * (cell_h + caption + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, title) in enumerate(zip(features, titles)):
        lo, hi = image.min(), image.max()
        level = ((image - lo) / (hi - lo + 1e-9))[::-1]  # low frequencies at the bottom
        rgb = np.stack([level ** 0.5, level ** 1.5, 0.35 + 0.4 * (1 - level)], axis=-1)
        tile = Image.fromarray((rgb * 255).astype(np.uint8)).resize((cell_w, cell_h),
                                                                      Image.NEAREST)
        x = pad + (i % cols) * (cell_w + pad)
        y = pad + (i // cols) * (cell_h + caption + pad)
        draw.text((x, y), title, fill="black")
        sheet.paste(tile, (x, y + caption))
    sheet.save(path)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--n-mels", type=int, default=40)
    parser.add_argument("--hop-length", type=int, default=200)
    parser.add_argument("--channels", default="16,32,64", help="conv channels, comma-separated")
    parser.add_argument("--freq-shift", type=int, default=3,
                        help="largest random shift of the mel bins in training (voices "
                             "differ in pitch and formants)")
    parser.add_argument("--test-voices", type=int, default=3,
                        help="voices (of 12) held out for testing")
    parser.add_argument("--data", default=speech_commands_synth_root(),
                        help="a folder in the Speech Commands layout")
    parser.add_argument("--png", default="keyword_spotting.png",
                        help="where to save the spectrogram picture")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    tm.manual_seed(args.seed)
    clips, labels, voices, classes = load_clips(args.data)
    train, test = split_by_voice(voices, args.test_voices)
    frontend = LogMel(args.n_mels, args.hop_length)
    with tm.no_grad():
        features = frontend(tm.from_numpy(clips))
    targets = tm.from_numpy(labels)
    first_of_each = [int(np.flatnonzero(labels == c)[0]) for c in range(len(classes))]
    save_spectrogram_png(features[first_of_each, 0].numpy(),
                         [classes[labels[i]] for i in first_of_each], args.png)

    train_idx = tm.from_numpy(np.flatnonzero(train))
    loader = DataLoader(TensorDataset(features[train_idx], targets[train_idx]),
                        batch_size=args.batch_size, shuffle=True,
                        generator=tm.Generator().manual_seed(args.seed))
    augment = T.SpecAugment(n_time_masks=2, time_mask_param=12, n_freq_masks=2,
                            freq_mask_param=6, iid_masks=True, zero_masking=True)
    channels = tuple(int(c) for c in args.channels.split(","))
    model = KWSNet(n_classes=len(classes), n_mels=args.n_mels, channels=channels)
    optimizer = tm.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-3)
    scheduler = tm.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr,
                                                 total_steps=args.epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)

    bar = tqdm(range(args.epochs), desc="training", unit="epoch", disable=args.quiet)
    for _ in bar:
        total = 0.0
        for batch, batch_labels in loader:
            batch = shift(batch, args.freq_shift, max_time=8)
            loss = loss_fn(model(augment(batch)), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(batch_labels)
        bar.set_postfix(loss=f"{total / int(train.sum()):.3f}")
    bar.close()

    test_idx = tm.from_numpy(np.flatnonzero(test))
    acc = accuracy(model, features[test_idx], targets[test_idx], args.freq_shift)
    held_out = sorted(set(voices[test]))
    print(f"held-out voices: {', '.join(held_out)}")
    print(f"held-out accuracy: {acc:.4f} ({int(test.sum())} utterances)")
    print(f"spectrograms saved to {os.path.abspath(args.png)}")
    return acc


if __name__ == "__main__":
    main()
