"""Runtime switches, backends, accelerator and profiler layout against PyTorch (CPU build)."""

import warnings

import pytest

import taimatsu
from taimatsu import _runtime

torch = pytest.importorskip("torch")
cpu_only = pytest.mark.skipif(taimatsu.cuda.is_available() or torch.cuda.is_available(),
                              reason="compares the CPU-only behaviour")


def _error(fn, *args, **kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*args, **kwargs)
    except Exception as exc:
        return type(exc), str(exc)
    return None


@pytest.fixture(autouse=True)
def restore_state():
    det = dict(_runtime._deterministic)
    t_det = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    ours_prec, theirs_prec = (taimatsu.get_float32_matmul_precision(),
                              torch.get_float32_matmul_precision())
    yield
    _runtime._deterministic.update(det)
    torch.use_deterministic_algorithms(t_det[0], warn_only=t_det[1])
    taimatsu.set_float32_matmul_precision(ours_prec)
    torch.set_float32_matmul_precision(theirs_prec)


def test_backend_flag_defaults():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32", "fp32_precision"):
        assert getattr(taimatsu.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    m, tm = taimatsu.backends.cuda.matmul, torch.backends.cuda.matmul
    for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction", "fp32_precision"):
        assert getattr(m, name) == getattr(tm, name), name
    assert taimatsu.backends.mps.is_available() == torch.backends.mps.is_available()
    assert taimatsu.backends.mps.is_built() == torch.backends.mps.is_built()


@cpu_only
def test_cudnn_on_cpu_build():
    assert taimatsu.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert taimatsu.backends.cudnn.version() == torch.backends.cudnn.version()
    assert taimatsu.backends.cudnn.benchmark_limit == torch.backends.cudnn.benchmark_limit


@pytest.mark.parametrize("stmt", ["benchmark = 1", "enabled = 'x'", "deterministic = None",
                                  "fp32_precision = 'bad'"])
def test_cudnn_assignment_errors(stmt):
    name, value = (s.strip() for s in stmt.split("="))
    value = eval(value)
    ours = _error(setattr, taimatsu.backends.cudnn, name, value)
    theirs = _error(setattr, torch.backends.cudnn, name, value)
    assert ours == theirs


def test_matmul_errors_and_allow_tf32_link():
    for name, value in (("allow_tf32", 1), ("foo", 1)):
        assert _error(setattr, taimatsu.backends.cuda.matmul, name, value) == \
            _error(setattr, torch.backends.cuda.matmul, name, value)
    assert _error(getattr, taimatsu.backends.cuda.matmul, "foo") == \
        _error(getattr, torch.backends.cuda.matmul, "foo")
    for precision in ("high", "medium", "highest"):
        taimatsu.set_float32_matmul_precision(precision)
        torch.set_float32_matmul_precision(precision)
        assert taimatsu.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    for value in (True, False):
        taimatsu.backends.cuda.matmul.allow_tf32 = value
        torch.backends.cuda.matmul.allow_tf32 = value
        assert taimatsu.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


@cpu_only
def test_accelerator_on_cpu():
    assert taimatsu.accelerator.is_available() == torch.accelerator.is_available()
    assert taimatsu.accelerator.device_count() == torch.accelerator.device_count()
    assert taimatsu.accelerator.current_accelerator(check_available=True) is None
    assert torch.accelerator.current_accelerator(check_available=True) is None
    for name, args in (("current_device_index", ()), ("synchronize", ()),
                       ("set_device_index", (0,)), ("set_device_index", ("cpu",)),
                       ("empty_cache", ())):
        assert _error(getattr(taimatsu.accelerator, name), *args) == \
            _error(getattr(torch.accelerator, name), *args), name


@cpu_only
@pytest.mark.parametrize("call", ["is_available()", "device_count()", "is_initialized()",
                                  "manual_seed(3)", "manual_seed_all(3)", "seed_all()",
                                  "memory_allocated()", "max_memory_allocated()",
                                  "memory_reserved()", "is_bf16_supported()",
                                  "set_device('cpu')", "synchronize()", "current_device()"])
def test_cuda_on_cpu_build(call):
    def run(mod):
        try:
            return ("ok", eval("cuda." + call, {"cuda": mod.cuda}))
        except Exception as exc:  # same type; our message adds why (CuPy missing)
            return type(exc), str(exc).split(":")[0]
    assert run(taimatsu) == run(torch)


@pytest.mark.parametrize("args, kwargs", [((True,), {}), ((True,), {"warn_only": True}),
                                          ((False,), {}), ((1,), {}),
                                          ((True,), {"warn_only": 1})])
def test_use_deterministic_algorithms(args, kwargs):
    ours = _error(taimatsu.use_deterministic_algorithms, *args, **kwargs)
    theirs = _error(torch.use_deterministic_algorithms, *args, **kwargs)
    assert ours == theirs
    if ours is None:
        assert taimatsu.are_deterministic_algorithms_enabled() == \
            torch.are_deterministic_algorithms_enabled()
        assert taimatsu.is_deterministic_algorithms_warn_only_enabled() == \
            torch.is_deterministic_algorithms_warn_only_enabled()
        assert taimatsu.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()


@pytest.mark.parametrize("mode", ["default", "warn", "error", 0, 1, 2, "x", 5, 1.0])
def test_deterministic_debug_mode(mode):
    assert _error(taimatsu.set_deterministic_debug_mode, mode) == \
        _error(torch.set_deterministic_debug_mode, mode)
    assert taimatsu.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()


@pytest.mark.parametrize("value", [0, -2, 1.5, "2"])
def test_thread_count_errors(value):
    for name in ("set_num_threads", "set_num_interop_threads"):
        assert _error(getattr(taimatsu, name), value) == _error(getattr(torch, name), value)


def test_float32_matmul_precision():
    for value in ("high", "bad", "medium", "highest"):
        with pytest.warns(UserWarning) if value == "bad" else warnings.catch_warnings():
            taimatsu.set_float32_matmul_precision(value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.set_float32_matmul_precision(value)
        assert taimatsu.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


@pytest.mark.parametrize("kwargs", [dict(wait=1, warmup=1, active=2),
                                    dict(wait=2, warmup=0, active=3, repeat=2),
                                    dict(wait=1, warmup=2, active=1, repeat=1, skip_first=2),
                                    dict(wait=3, warmup=1, active=2, skip_first=1,
                                         skip_first_wait=1)])
def test_profiler_schedule(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = taimatsu.profiler.schedule(**kwargs), torch.profiler.schedule(**kwargs)
    assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)]


def _header(table):
    return table.splitlines()[1].split("  ")


@pytest.mark.parametrize("memory, by_shape", [(False, False), (True, False), (False, True)])
def test_profiler_table_columns(memory, by_shape):
    def run(mod):
        x = mod.ones(4, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mod.profiler.profile(activities=[mod.profiler.ProfilerActivity.CPU],
                                      record_shapes=True, profile_memory=memory) as prof:
                with mod.profiler.record_function("region"):
                    (x * 2).sum()
        table = prof.key_averages(group_by_input_shape=by_shape).table(
            sort_by="cpu_time_total", row_limit=5)
        rows = table.splitlines()
        columns = [c.strip() for c in _header(table) if c.strip()]
        return columns, rows[3].split()[0], rows[-1].split(":")[0]
    assert run(taimatsu) == run(torch)


def test_profiler_event_attributes():
    names = ("key", "count", "cpu_time", "cpu_time_total", "self_cpu_time_total",
             "cpu_memory_usage", "self_cpu_memory_usage", "input_shapes")
    with taimatsu.profiler.profile() as ours:
        taimatsu.ones(2).exp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.profiler.profile() as theirs:
            torch.ones(2).exp()
    for name in names:
        assert hasattr(ours.key_averages()[0], name) and hasattr(theirs.key_averages()[0], name)
    for name in ("name", "cpu_parent", "cpu_children", "thread", "is_user_annotation"):
        assert hasattr(ours.events()[0], name) and hasattr(theirs.events()[0], name)
    for event in (ours.events()[0], theirs.events()[0]):
        span = event.time_range
        assert span.elapsed_us() == pytest.approx(span.end - span.start)
        assert span.elapsed_us() == pytest.approx(event.cpu_time_total)
