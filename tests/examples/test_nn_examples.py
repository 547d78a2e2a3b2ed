"""The nn examples run on tiny settings and learn."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / script), "--quiet", *args],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def number(label: str, text: str) -> float:
    return float(re.search(label + r":\s*([0-9.]+)", text).group(1))


def test_mlp_digits_learns():
    assert number("test accuracy", run("mlp_digits.py", "--epochs", "8")) >= 0.9


@pytest.mark.slow
def test_cnn_digits_reaches_97_percent():
    assert number("test accuracy", run("cnn_digits.py")) >= 0.97


def test_cnn_digits_learns_quickly():
    assert number("test accuracy", run("cnn_digits.py", "--epochs", "3")) >= 0.85


def test_char_transformer_beats_unigram_entropy():
    out = run("char_transformer.py", "--steps", "80")
    assert number("final loss", out) < 0.75 * number("unigram entropy", out)


def test_lstm_classifier_learns():
    assert number("held-out accuracy", run("lstm_classifier.py", "--steps", "150")) >= 0.9
