"""The README's tour runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tour_runs():
    text = README.read_text()
    tour = text.split("## A short tour", 1)[1]
    code = re.search(r"```python\n(.*?)```", tour, re.S).group(1)
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)
    assert scope["dy"].item() == 12.0 and scope["d2y"].item() == 12.0
    assert scope["w"].grad is None
