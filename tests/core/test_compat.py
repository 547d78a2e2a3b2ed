"""taimatsu.compat: the torch -> taimatsu import hook and `python -m taimatsu.compat`."""

import subprocess
import sys
import textwrap

import pytest

import taimatsu
from taimatsu import compat


def _run(tmp_path, source, *args, name="script.py", cwd=None):
    script = tmp_path / name
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, "-m", "taimatsu.compat", str(script), *args],
                          capture_output=True, text=True, cwd=cwd or tmp_path, timeout=120)


def test_script_sees_taimatsu_under_torch_names(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 7\n")
    result = _run(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        from torch.utils.data import DataLoader, TensorDataset
        import torchvision
        from torchvision import transforms
        import taimatsu, taimatsu.nn, taimatsu.utils.data, taimatsu_vision
        import helper_mod   # found because sys.path[0] is the script's folder

        assert torch is taimatsu and nn is taimatsu.nn
        assert F is taimatsu.nn.functional and optim is taimatsu.optim
        assert sys.modules["torch.nn.functional"] is taimatsu.nn.functional
        assert DataLoader is taimatsu.utils.data.DataLoader
        assert torchvision is taimatsu_vision
        assert torch.__spec__.name == "taimatsu"      # the real spec is kept
        model = nn.Linear(3, 2)
        loss = F.mse_loss(model(torch.randn(4, 3)), torch.zeros(4, 2))
        loss.backward()
        print("NAME", __name__)
        print("ARGV", sys.argv[1:])
        print("VALUE", helper_mod.VALUE)
        sys.exit(5)
        """, "--epochs", "1", "x y", cwd=None)
    assert result.returncode == 5, result.stderr
    assert "NAME __main__" in result.stdout
    assert "ARGV ['--epochs', '1', 'x y']" in result.stdout
    assert "VALUE 7" in result.stdout


def test_argv0_is_the_script_path(tmp_path):
    result = _run(tmp_path, "import sys; print(sys.argv[0])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "script.py")


def test_uncaught_error_exits_1_with_the_scripts_traceback(tmp_path):
    result = _run(tmp_path, "import torch\n\ndef f():\n    raise ValueError('boom')\n\nf()\n")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{tmp_path / "script.py"}", line 6, in <module>'
    assert lines[-1] == "ValueError: boom"
    assert "runpy" not in result.stderr and "taimatsu/compat" not in result.stderr


def test_missing_counterpart_names_the_module(tmp_path):
    result = _run(tmp_path, "import torch.no_such_module\n")
    assert result.returncode == 1
    assert ("ModuleNotFoundError: taimatsu has no counterpart of 'torch.no_such_module' yet"
            in result.stderr)


def test_missing_script_is_reported_like_python(tmp_path):
    result = subprocess.run([sys.executable, "-m", "taimatsu.compat", str(tmp_path / "nope.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "can't open file" in result.stderr and "nope.py" in result.stderr


def test_dash_m_runs_a_module(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "train.py").write_text(
        "import sys, torch\nprint(__name__, torch.__name__, sys.argv[1:])\n")
    result = subprocess.run([sys.executable, "-m", "taimatsu.compat", "-m", "mypkg.train", "a"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "__main__ taimatsu ['a']"


def test_dash_m_missing_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "taimatsu.compat", "-m", "no_such_mod_xyz"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("No module named no_such_mod_xyz")


def test_spawned_child_gets_the_hook(tmp_path):
    result = _run(tmp_path, """
        import multiprocessing as mp
        import torch

        def child(q):
            import torch.nn
            q.put(torch.nn.__name__)

        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print("CHILD", q.get(timeout=60))
            p.join()
        """)
    assert result.returncode == 0, result.stderr
    assert "CHILD taimatsu.nn" in result.stdout


def test_usage_without_arguments():
    result = subprocess.run([sys.executable, "-m", "taimatsu.compat"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "usage" in result.stderr


@pytest.fixture
def hook():
    compat.install()
    yield
    compat.uninstall()


def test_install_in_process(hook):
    import torch.nn.functional as F  # noqa: I001  (resolved by the hook)
    import torch

    assert compat.is_installed()
    assert torch is taimatsu
    assert F is taimatsu.nn.functional
    assert taimatsu.__spec__.name == "taimatsu"


def test_install_twice_is_harmless(hook):
    compat.install()
    assert sum(isinstance(f, type(sys.meta_path[0])) for f in sys.meta_path) == 1


def test_in_process_missing_module(hook):
    with pytest.raises(ModuleNotFoundError, match=r"no counterpart of 'torch\.nope' yet") as info:
        import torch.nope  # noqa: F401
    assert info.value.name == "torch.nope"


def test_uninstall_restores_previous_modules():
    sentinel = type(sys)("torch")
    previous = sys.modules.get("torch")
    sys.modules["torch"] = sentinel
    try:
        compat.install()
        import torch
        assert torch is taimatsu
        compat.uninstall()
        assert not compat.is_installed()
        assert sys.modules["torch"] is sentinel
        assert "torch.nn" not in sys.modules or sys.modules["torch.nn"] is not taimatsu.nn
    finally:
        compat.uninstall()
        if previous is None:
            sys.modules.pop("torch", None)
        else:
            sys.modules["torch"] = previous


def test_counterpart_mapping():
    assert compat.counterpart("torch") == "taimatsu"
    assert compat.counterpart("torch.utils.data") == "taimatsu.utils.data"
    assert compat.counterpart("torchvision.models") == "taimatsu_vision.models"
    assert compat.counterpart("torchaudio") == "taimatsu_audio"
    assert compat.counterpart("torchmetrics") is None
    assert compat.counterpart("numpy") is None
