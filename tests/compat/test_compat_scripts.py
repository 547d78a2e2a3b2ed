"""Scripts written like the official PyTorch examples run unmodified on taimatsu.

Each script in this folder does `import torch` (and torchvision where the original
does) and is run here as `python -m taimatsu.compat <script> <tiny settings>`, in a
fresh working directory, on data the fixtures write (conftest.py). Every script ends by
asserting that training reduced its loss; the tests check the printed numbers again
and the files the script writes, so neither a crash nor a silent non-learning run passes.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
PROBE = HERE / "probe"  # its sitecustomize records which torch each process ran with


@dataclass
class Result:
    cwd: Path
    output: str  # stdout and stderr of every step
    error: str | None  # why a step failed, or None
    probes: list[dict]  # one record per Python process that exited normally


def run_compat(cwd: Path, script: str, *args, timeout: float = 300) -> tuple[int, str]:
    """Runs HERE/script through taimatsu.compat in cwd: (exit status, stdout + stderr)."""
    cmd = [sys.executable, "-m", "taimatsu.compat", str(HERE / script), *map(str, args)]
    probes = cwd / "probes"
    probes.mkdir(exist_ok=True)
    env = dict(os.environ, TAIMATSU_COMPAT_PROBE=str(probes),
               PYTHONPATH=os.pathsep.join(filter(None, [str(PROBE),
                                                        os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


WLM_TINY = ["--emsize", "16", "--nhid", "32", "--bptt", "10", "--batch_size", "8",
            "--epochs", "3", "--log-interval", "10"]

# name -> steps, each (script, args); "{mnist}" / "{corpus}" stand for the fixtures' folders
RUNS: dict[str, list[tuple[str, list[str]]]] = {
    "mnist": [("mnist/main.py", ["--data", "{mnist}", "--epochs", "2", "--batch-size", "32",
                                 "--test-batch-size", "256", "--log-interval", "4",
                                 "--save-model"])],
    "word_lm_lstm": [("word_language_model/main.py",
                      ["--data", "{corpus}", "--model", "LSTM", "--nlayers", "1", "--lr", "20",
                       *WLM_TINY])],
    "word_lm_gru_weights_only": [("word_language_model/main.py",
                                  ["--data", "{corpus}", "--model", "GRU", "--nlayers", "2",
                                   "--lr", "20", "--weights-only", *WLM_TINY])],
    "word_lm_transformer": [("word_language_model/main.py",
                             ["--data", "{corpus}", "--model", "Transformer", "--nlayers", "2",
                              "--lr", "5", *WLM_TINY])],
    "word_lm_transformer_weights_only": [("word_language_model/main.py",
                                          ["--data", "{corpus}", "--model", "Transformer",
                                           "--nlayers", "2", "--lr", "5", "--weights-only",
                                           *WLM_TINY])],
    "time_sequence_prediction": [
        ("time_sequence_prediction/generate_sine_wave.py", ["--L", "60", "--N", "8"]),
        ("time_sequence_prediction/train.py", ["--steps", "2", "--hidden", "16",
                                               "--future", "20"]),
    ],
    "dcgan": [("dcgan/main.py", ["--dataset", "fake", "--fakeSize", "96", "--batchSize", "16",
                                 "--nz", "16", "--ngf", "8", "--ndf", "8", "--niter", "2",
                                 "--workers", "2", "--manualSeed", "1", "--outf", "out"])],
    "reinforce": [("reinforcement_learning/reinforce.py", ["--max-episodes", "60", "--lr", "5e-3",
                                                           "--log-interval", "10"])],
    "mnist_hogwild": [("mnist_hogwild/main.py", ["--data", "{mnist}", "--epochs", "2",
                                                 "--batch-size", "32", "--test-batch-size",
                                                 "256", "--lr", "0.05", "--log-interval", "5",
                                                 "--save_model"])],
    "gat": [("gat/main.py", ["--nodes", "150", "--classes", "3", "--features", "60",
                             "--p-in", "0.08", "--p-out", "0.01", "--hidden-dim", "16",
                             "--num-heads", "4", "--epochs", "30", "--val-every", "5",
                             "--lr", "0.02", "--dropout-p", "0.3"])],
}


def _run_steps(cwd: Path, name: str, folders: dict) -> dict:
    output, error = "", None
    for script, args in RUNS[name]:
        status, out = run_compat(cwd, script, *[a.format(**folders) for a in args])
        output += out
        if status != 0:
            error = f"{script} exited with {status}:\n{out}"
            break
    probes = [json.loads(f.read_text()) for f in sorted((cwd / "probes").iterdir())]
    return {"output": output, "error": error, "probes": probes}


@pytest.fixture(scope="session")
def compat_run(tmp_path_factory, mnist_root, corpus_dir):
    """compat_run(name) -> Result: runs RUNS[name] once per test session, in a fresh folder.

    Under pytest-xdist the workers of one session share the runs (a file lock decides
    which worker runs a script; the others read its result), so `-n 2` runs nothing twice.
    """
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "compat-runs"
    shared.mkdir(exist_ok=True)
    folders = {"mnist": mnist_root, "corpus": corpus_dir}

    def run(name: str) -> Result:
        cwd, result_file = shared / name, shared / f"{name}.json"
        with open(shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not result_file.exists():
                cwd.mkdir()
                result_file.write_text(json.dumps(_run_steps(cwd, name, folders)))
        res = Result(cwd, **json.loads(result_file.read_text()))
        if res.error:
            pytest.fail(res.error, pytrace=False)
        return res

    return run


def floats(pattern: str, text: str) -> list[float]:
    """Every float captured by pattern's first group in text."""
    return [float(m) for m in re.findall(pattern, text)]


def assert_ok(output: str) -> None:
    # the line each script prints after its own final assertions
    assert re.search(r"^OK: training (reduced the loss|increased the reward)$", output,
                     re.MULTILINE), output


def test_mnist_cnn(compat_run):
    res = compat_run("mnist")
    assert_ok(res.output)
    assert re.search(r"Using device: (cpu|cuda)", res.output)
    losses = floats(r"mean train loss (\d+\.\d+)", res.output)
    assert len(losses) == 2 and losses[1] < losses[0]
    # StepLR(step_size=1, gamma=0.7) from lr 1.0
    assert floats(r"lr now (\d+\.\d+)", res.output) == [0.7, 0.49]
    accuracies = floats(r"Accuracy: \d+/256 \((\d+)%\)", res.output)
    assert len(accuracies) == 2 and accuracies[-1] > 20
    assert (res.cwd / "mnist_cnn.pt").stat().st_size > 100_000  # fc1 alone is 9216 x 128


@pytest.mark.parity
def test_mnist_checkpoint_loads_in_pytorch(compat_run, torch):
    # the state_dict the script saved under taimatsu is an ordinary PyTorch checkpoint
    state = torch.load(compat_run("mnist").cwd / "mnist_cnn.pt", weights_only=True)
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes == {"conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,),
                      "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
                      "fc1.weight": (128, 9216), "fc1.bias": (128,),
                      "fc2.weight": (10, 128), "fc2.bias": (10,)}
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in state.values())


@pytest.mark.parity
def test_dcgan_checkpoint_loads_in_pytorch(compat_run, torch):
    state = torch.load(compat_run("dcgan").cwd / "out" / "netG_epoch_1.pth", weights_only=True)
    assert tuple(state["main.0.weight"].shape) == (16, 64, 4, 4)  # ConvTranspose2d(nz, ngf*8)
    tracked = state["main.1.num_batches_tracked"]  # BatchNorm2d's counter, an int64 scalar
    assert tracked.dtype == torch.int64 and tracked.ndim == 0 and tracked.item() > 0
    assert torch.all(state["main.1.running_var"] > 0)


@pytest.mark.parametrize("name", ["word_lm_lstm", "word_lm_gru_weights_only",
                                  "word_lm_transformer", "word_lm_transformer_weights_only"])
def test_word_language_model(compat_run, corpus_dir, name):
    res = compat_run(name)
    assert_ok(res.output)
    train = floats(r"train loss +(\d+\.\d+)", res.output)
    assert len(train) == 3 and train[-1] < train[0]
    (test_loss,) = floats(r"End of training \| test loss +(\d+\.\d+)", res.output)
    words = {w for f in corpus_dir.glob("*.txt") for w in f.read_text().split()}
    assert test_loss < math.log(len(words) + 1)  # better than uniform over words and <eos>
    assert (res.cwd / "model.pt").exists()


def test_time_sequence_prediction(compat_run):
    res = compat_run("time_sequence_prediction")
    assert_ok(res.output)
    assert "wrote traindata.pt: 8 waves of length 60" in res.output
    losses = floats(r"(?m)^loss: (\S+)$", res.output)  # one per closure call
    assert len(losses) > 2 and losses[-1] < 0.5 * losses[0]
    test_losses = floats(r"(?m)^test loss: (\S+)$", res.output)
    assert len(test_losses) == 2 and test_losses[1] < test_losses[0]
    prediction = np.load(res.cwd / "predict1.npy")
    assert prediction.shape == (3, 59 + 20) and prediction.dtype == np.float64


def test_dcgan(compat_run):
    res = compat_run("dcgan")
    assert_ok(res.output)
    assert "ConvTranspose2d(16, 64, kernel_size=(4, 4), stride=(1, 1), bias=False)" in res.output
    loss_d = floats(r"Loss_D: (\d+\.\d+)", res.output)
    assert len(loss_d) == 12 and loss_d[-1] < loss_d[0]
    for name in ["real_samples.png", "fake_samples_epoch_000.png", "fake_samples_epoch_001.png",
                 "netG_epoch_1.pth", "netD_epoch_1.pth"]:
        assert (res.cwd / "out" / name).exists(), name


def test_reinforce(compat_run):
    res = compat_run("reinforce")
    assert_ok(res.output)
    first, last = (float(x) for x in re.search(
        r"first 15 episodes (\d+\.\d+), of the last 15 (\d+\.\d+)", res.output).groups())
    assert last > first
    assert len(re.findall(r"(?m)^Episode \d+\t", res.output)) == 6


def test_mnist_hogwild(compat_run):
    res = compat_run("mnist_hogwild")
    assert_ok(res.output)
    pids = set(re.findall(r"^(\d+)\tTrain Epoch", res.output, re.MULTILINE))
    assert len(pids) == 2  # both training processes ran and printed
    before, after = floats(r"Test set: Average loss: (\d+\.\d+)", res.output)
    assert after < before  # the parent's model is the one the children trained
    assert (res.cwd / "MNIST_hogwild.pt").exists()


def test_gat_sparse(compat_run):
    res = compat_run("gat")
    assert_ok(res.output)
    assert "150 nodes," in res.output
    losses = floats(r"loss_train: (\d+\.\d+)", res.output)
    assert len(losses) == 6 and losses[-1] < losses[0]
    (accuracy,) = floats(r"Test set results: loss \d+\.\d+ accuracy (\d+\.\d+)", res.output)
    assert accuracy > 0.5


# A run that works only because something was quietly replaced by another implementation
# would say so somewhere in its output (a warning, a log line). Warnings as such are fine:
# PyTorch itself warns in some of these scripts.
_FALLBACK = re.compile(r"fall(s|ing)?[ -]?back|not (yet )?(implemented|supported)|"
                       r"NotImplemented", re.IGNORECASE)


@pytest.mark.parametrize("name", list(RUNS))
def test_outputs_mention_no_fallbacks(compat_run, name):
    res = compat_run(name)
    found = [line for line in res.output.splitlines() if _FALLBACK.search(line)]
    assert not found, "\n".join(found)
    # and no process ran on a real PyTorch: `torch` was taimatsu wherever it was imported
    # (helpers such as multiprocessing's resource tracker import no torch at all)
    for record in res.probes:
        assert record["torch"] in ("taimatsu", None), record
        assert not record["real_torch_files"], record
    ran_taimatsu = [r for r in res.probes if r["torch"] == "taimatsu"]
    # one process per step, plus the Hogwild training processes (DataLoader workers that
    # exit through os._exit leave no record)
    expected = len(RUNS[name]) + (2 if name == "mnist_hogwild" else 0)
    assert len(ran_taimatsu) >= expected, res.probes
