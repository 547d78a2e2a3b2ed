"""examples/ddp_digits.py trains on 2 ranks through the launcher (tiny settings)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.distributed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ddp_digits.py"


def test_ddp_digits_trains_on_two_ranks(mpirun, tmp_path):
    checkpoint = tmp_path / "digits.pt"
    proc = subprocess.run(
        [sys.executable, "-m", "taimatsu.distributed.run", "--nproc", "2", str(EXAMPLE),
         "--epochs", "2", "--batch-size", "64", "--lr", "1e-2", "--save", str(checkpoint)],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    losses = [float(v) for v in re.findall(r"epoch \d+: loss (\d+\.\d+)", out)]
    assert len(losses) == 2 and losses[1] < losses[0], out  # printed by rank 0 only
    assert "ranks: 2, replicas identical: True" in out
    accuracy = float(re.search(r"test accuracy: (\d+\.\d+)", out).group(1))
    assert accuracy > 0.8, out
    # the checkpoint is the bare model's: it loads without a "module." prefix
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        from cnn_digits import DigitNet
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    import taimatsu as tm
    result = DigitNet().load_state_dict(tm.load(checkpoint))
    assert str(result) == "<All keys matched successfully>"
