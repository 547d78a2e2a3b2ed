"""The scripts in examples/ run end to end (as subprocesses, on tiny settings)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str, timeout: float = 120) -> str:
    """Runs examples/<name> with this interpreter; returns its stdout, failing on errors."""
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", text)]


def test_autograd_tutorial():
    out = run_example("autograd_tutorial.py")
    line = next(ln for ln in out.splitlines() if ln.startswith("d(out)/dx at x=1:"))
    assert numbers(line) == [4.5]
    grad_block = out.split("x.grad =", 1)[1].split("d(out)/dx", 1)[0]
    assert numbers(grad_block) == [4.5] * 4
    vjp = next(ln for ln in out.splitlines() if ln.startswith("x.grad = v^T J ="))
    assert numbers(vjp) == pytest.approx([1.6, 16.0, 0.0016])
    assert "inside no_grad: False" in out
    assert "y.requires_grad: False" in out
    assert "same values: True" in out


def test_linear_regression_learns_w_and_b():
    out = run_example("linear_regression.py", "--steps", "150", "--samples", "128")
    losses = [float(m) for m in re.findall(r"loss (\d+\.\d+)", out)]
    assert len(losses) >= 3 and losses[-1] < losses[0]
    w, b = (float(v) for v in re.search(r"learned w = (-?\d+\.\d+), b = (-?\d+\.\d+)",
                                        out).groups())
    assert w == pytest.approx(2.0, abs=0.1)
    assert b == pytest.approx(-3.0, abs=0.1)


def test_linear_regression_quiet_prints_only_the_result():
    out = run_example("linear_regression.py", "--steps", "5", "--quiet")
    assert out.strip().startswith("learned w =")
    assert len(out.strip().splitlines()) == 1
