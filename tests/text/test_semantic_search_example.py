"""examples/semantic_search.py runs end to end and finds each query's topic first."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "semantic_search.py"


def test_semantic_search_example(minilm_dir):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--model", minilm_dir, "--top-k", "2"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "encoded 480 sentences into (480, 384)" in out
    assert re.search(r"top-1 topic accuracy: 1\.00 \(8/8 queries\)", out), out
    first = out.split("query: How do I make a good pasta sauce?")[1].splitlines()[1]
    assert "[cooking]" in first and "sauce" in first

