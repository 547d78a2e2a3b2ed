"""The ResNet-18 fine-tuning example learns on a folder of real images."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "finetune_resnet18_folder.py"


def test_finetune_resnet18_on_an_image_folder():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quiet"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    def value(label):
        return float(re.search(label + r": ([0-9.]+)", done.stdout).group(1))
    assert value("last epoch loss") < 0.5 * value("first epoch loss")
    assert value("validation accuracy") >= 0.75
