"""taimatsu.cuda streams, events, pinning and non_blocking against PyTorch.

The behaviour compared is the one without CUDA (taimatsu without CuPy, PyTorch's CPU build);
the API's shape (methods and their parameters) is compared everywhere.
"""

import inspect
import warnings

import pytest

import taimatsu

torch = pytest.importorskip("torch")
both_cpu_builds = pytest.mark.skipif(
    taimatsu.backends.cuda.is_built() or torch.backends.cuda.is_built(),
    reason="compares the builds without CUDA")


def _outcome(fn):
    """("ok", result) or (exception type, message up to the first colon): taimatsu's
    messages may add why CUDA is missing after one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", fn()
    except Exception as exc:
        return type(exc), str(exc).split(":")[0]


@both_cpu_builds
@pytest.mark.parametrize("call", [
    "Stream()", "Stream(device=0)", "Stream(priority=-1)", "Stream(0, -1)",
    "Event()", "Event(enable_timing=True)", "Event(True, True, True)", "Event(foo=1)",
    "ExternalStream(0, device=0)", "ExternalStream(123, device='cuda:0')",
    "current_stream()", "current_stream(0)", "default_stream()", "default_stream('cuda:0')",
    "set_stream(None)", "is_available()", "stream(None).__enter__()",
    "StreamContext(None).__exit__(None, None, None)"])
def test_cuda_stream_calls_without_cuda(call):
    def run(mod):
        return _outcome(lambda: eval("cuda." + call, {"cuda": mod.cuda}))
    assert run(taimatsu) == run(torch)


@both_cpu_builds
def test_stream_context_of_any_stream_is_a_no_op_without_cuda():
    for mod in (taimatsu, torch):
        ctx = mod.cuda.stream(object())
        assert isinstance(ctx, mod.cuda.StreamContext) and ctx.idx == -1
        with ctx as entered:
            assert entered is None


@both_cpu_builds
@pytest.mark.parametrize("call", [
    "t.is_pinned()", "t.pin_memory()", "t.record_stream(None)", "t.record_stream(1)"])
def test_tensor_calls_without_cuda(call):
    def run(mod):
        t = mod.zeros(2)
        return _outcome(lambda: eval(call, {"t": t}))
    assert run(taimatsu) == run(torch)


@pytest.mark.parametrize("args, kwargs", [
    (("cpu",), {"non_blocking": True}), (("float32", True), {}),
    (("float32", False, True), {}), (("cpu", "float32", True, True), {}),
    (("float64", True), {}), (("self", True), {}), (("self", True, True), {}),
    (("float32",), {"non_blocking": True, "copy": True})])
def test_to_with_non_blocking_and_copy_flags(args, kwargs):
    """Positional bools read as (non_blocking, copy); the same tensor back or a new one."""
    def run(mod):
        t = mod.arange(3.0)
        real = [t if a == "self" else getattr(mod, a) if str(a).startswith("float") else a
                for a in args]
        out = t.to(*real, **kwargs)
        return out is t, str(out.dtype).split(".")[-1], out.tolist()
    assert run(taimatsu) == run(torch)


def test_to_with_too_many_flags_fails_alike():
    ours = _outcome(lambda: taimatsu.zeros(2).to(taimatsu.float32, True, True, True))
    theirs = _outcome(lambda: torch.zeros(2).to(torch.float32, True, True, True))
    assert ours[0] is theirs[0] is TypeError
    prefix = "to() received an invalid combination of arguments - got ("
    assert ours[1].startswith(prefix) and theirs[1].startswith(prefix)


def _parameters(fn):
    """Parameter names and defaults, without **kwargs (PyTorch's pass internals through)."""
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
            if p.kind is not p.VAR_KEYWORD]


@pytest.mark.parametrize("name", ["Stream", "ExternalStream", "Event"])
def test_stream_and_event_classes_have_pytorchs_methods(name):
    ours, theirs = getattr(taimatsu.cuda, name), getattr(torch.cuda, name)
    for attr, value in vars(theirs).items():
        if attr.startswith("__") and attr not in ("__new__", "__cuda_stream__"):
            continue
        assert hasattr(ours, attr), f"{name}.{attr}"
        if callable(value) or isinstance(value, classmethod):
            assert _parameters(getattr(ours, attr)) == _parameters(getattr(theirs, attr)), \
                f"{name}.{attr}"


@pytest.mark.parametrize("name", ["current_stream", "default_stream", "set_stream", "stream",
                                  "StreamContext"])
def test_stream_functions_have_pytorchs_parameters(name):
    assert _parameters(getattr(taimatsu.cuda, name)) == _parameters(getattr(torch.cuda, name))


def test_tensor_methods_have_pytorchs_parameters():
    for name in ("record_stream", "is_pinned", "pin_memory"):
        ours = [p for p, _ in _parameters(getattr(taimatsu.Tensor, name))]
        theirs = inspect.signature(getattr(torch.Tensor, name)) if _has_signature(
            getattr(torch.Tensor, name)) else None
        if theirs is not None:
            assert ours == [p for p in theirs.parameters], name
    assert [p for p, _ in _parameters(taimatsu.Tensor.cuda)][:3] == \
        ["self", "device", "non_blocking"]


def _has_signature(fn) -> bool:
    try:
        inspect.signature(fn)
        return True
    except (TypeError, ValueError):
        return False
