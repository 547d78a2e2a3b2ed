"""Shared test setup: the `device` fixture, `--device`, parity marking, `torch`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

_PARITY_DIR = Path(__file__).parent / "parity"
_DEVICES = ("cpu", "cuda")

try:
    from hypothesis import settings

    # Timing deadlines are flaky on a loaded 2-core CI machine running `-n 2`.
    settings.register_profile("taimatsu", deadline=None)
    settings.load_profile("taimatsu")
except ImportError:
    pass


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        action="append",
        choices=_DEVICES,
        default=None,
        help="run device-parametrized tests only on this device (repeatable); "
        "default: every available device",
    )


@cache
def _cuda_available() -> bool:
    # Imported lazily so collection works while parts of the core are missing.
    try:
        import taimatsu.cuda

        return bool(taimatsu.cuda.is_available())
    except (ImportError, AttributeError):
        return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" not in metafunc.fixturenames:
        return
    wanted = metafunc.config.getoption("--device") or [
        d for d in _DEVICES if d == "cpu" or _cuda_available()
    ]
    params = []
    for dev in dict.fromkeys(wanted):  # keep order, drop repeats
        marks = []
        if dev == "cuda":
            marks.append(pytest.mark.gpu)
            if not _cuda_available():
                marks.append(pytest.mark.skip(reason="CUDA is not available"))
        params.append(pytest.param(dev, marks=marks, id=dev))
    metafunc.parametrize("device", params, indirect=True)


@pytest.fixture
def device(request: pytest.FixtureRequest) -> str:
    """'cpu', or 'cuda' when a GPU is present (see --device)."""
    return request.param


@pytest.fixture(scope="session")
def torch():
    """The torch module; skips the test when torch is not installed."""
    return pytest.importorskip("torch")


# tryfirst: mark before pytest's own hook applies -m selection.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_PARITY_DIR):
            item.add_marker(pytest.mark.parity)
