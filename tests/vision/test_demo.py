"""The taimatsu-vision demo: trains, checkpoints, reloads and draws its PNGs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import taimatsu as tm
from taimatsu_vision import demo


def test_demo_tiny_run_writes_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    accuracy = demo.main(["--epochs", "2", "--limit", "256", "--no-progress",
                          "--out", str(out)])
    printed = capsys.readouterr().out
    assert re.search(r"test accuracy: 0\.\d{4}", printed)
    assert re.search(r"reloaded checkpoint test accuracy: 0\.\d{4}", printed)
    assert "epoch 2/2: loss" in printed
    assert 0.3 < accuracy <= 1.0  # two short epochs already beat chance (0.1) clearly
    for name in ("predictions.png", "loss_curve.png", "lenet_digits.pt"):
        assert str(out / name) in printed
    grid = Image.open(out / "predictions.png")
    assert grid.format == "PNG" and grid.size[0] > 300
    pixels = np.asarray(grid.convert("RGB"))
    # predicted labels are drawn in green (right) or red (wrong) on the grey digits
    coloured = (np.abs(pixels[..., 0].astype(int) - pixels[..., 1]) > 80).sum()
    assert coloured > 50
    curve = Image.open(out / "loss_curve.png")
    assert curve.format == "PNG" and curve.size == (640, 400)
    assert (np.asarray(curve.convert("RGB")) == [30, 80, 200]).all(-1).any()  # the epoch line
    state = tm.load(str(out / "lenet_digits.pt"))
    model = demo.LeNet()
    model.load_state_dict(state["model"])
    assert state["epochs"] == 2 and state["accuracy"] == accuracy


def test_demo_progress_bar_shows_loss_and_accuracy(tmp_path, capsys):
    demo.main(["--epochs", "1", "--limit", "64", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "acc=" in err


def test_demo_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "taimatsu_vision.demo", "--epochs", "1", "--limit", "64",
         "--no-progress", "--out", str(tmp_path / "m")],
        capture_output=True, text=True, check=True, timeout=300)
    assert "test accuracy:" in result.stdout
    assert os.path.isfile(tmp_path / "m" / "predictions.png")


@pytest.mark.slow
def test_demo_reaches_97_percent(tmp_path):
    assert demo.main(["--no-progress", "--out", str(tmp_path)]) >= 0.97
