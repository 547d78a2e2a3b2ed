"""taimatsu.profiler and taimatsu.autograd.profiler."""

import gzip
import json
import time

import pytest

import taimatsu
import taimatsu.nn as nn
from taimatsu.autograd import engine, node
from taimatsu.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)

A = ProfilerAction


def _by_name(events, name):
    return [e for e in events if e.name == name]


def test_ops_are_named_and_nested_in_regions():
    x = taimatsu.randn(8, 4)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("outer"):
            with record_function("inner"):
                y = taimatsu.mm(x, x.t())
            y.exp()
    events = prof.events()
    outer, = _by_name(events, "outer")
    inner, = _by_name(events, "inner")
    mm, = _by_name(events, "taimatsu::mm")
    exp, = _by_name(events, "taimatsu::exp")
    assert [c.name for c in outer.cpu_children] == ["inner", "taimatsu::exp"]
    assert mm.cpu_parent is inner and inner.cpu_parent is outer and outer.cpu_parent is None
    assert mm.input_shapes == [[8, 4], [4, 8]]
    assert outer.is_user_annotation and not mm.is_user_annotation
    # self time is the total minus the children's
    children = sum(c.cpu_time_total for c in outer.cpu_children)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - children)
    assert outer.start_us <= inner.start_us <= mm.start_us <= mm.end_us <= inner.end_us
    assert exp.start_us >= inner.end_us and outer.end_us >= exp.end_us


def test_region_time_is_measured():
    with profile() as prof:
        with record_function("sleep"):
            time.sleep(0.02)
    sleep, = _by_name(prof.events(), "sleep")
    assert 15_000 < sleep.cpu_time_total < 2_000_000  # microseconds


def test_op_names_are_snake_case_class_names():
    from taimatsu.profiler._collector import op_name

    class LogSoftmax: ...

    class _MaxPool2dWithIndices: ...

    class Deg2Rad: ...

    assert op_name(LogSoftmax) == "taimatsu::log_softmax"
    assert op_name(_MaxPool2dWithIndices) == "taimatsu::max_pool2d_with_indices"
    assert op_name(Deg2Rad) == "taimatsu::deg2rad"


def test_backward_nodes_are_events():
    w = taimatsu.randn(4, 3, requires_grad=True)
    with profile() as prof:
        with record_function("train_step"):
            loss = taimatsu.mm(taimatsu.randn(2, 4), w).relu().sum()
            loss.backward()
    names = [e.name for e in prof.events()]
    for name in ("MmBackward0", "ReluBackward0", "SumBackward0"):
        assert name in names
    step, = _by_name(prof.events(), "train_step")
    mm_backward, = _by_name(prof.events(), "MmBackward0")
    assert mm_backward.cpu_parent is step
    assert w.grad is not None and w.grad.shape == (4, 3)


def test_hooks_are_removed_after_profiling():
    with profile():
        assert len(node.apply_observers) >= 1
        assert len(engine.backward_observers) >= 1
    assert not engine.backward_observers
    assert not any(getattr(f, "__module__", "").startswith("taimatsu.profiler")
                   for f in node.apply_observers)


def test_nested_profilers_are_refused():
    with profile():
        with pytest.raises(RuntimeError, match="Profiler is already enabled"):
            with profile():
                pass


def test_key_averages_counts_and_shapes():
    a, b = taimatsu.randn(3, 3), taimatsu.randn(5, 5)
    with profile(record_shapes=True) as prof:
        for _ in range(3):
            a.exp()
        b.exp()
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["taimatsu::exp"].count == 4
    assert avg["taimatsu::exp"].input_shapes is None
    total = sum(e.cpu_time_total for e in _by_name(prof.events(), "taimatsu::exp"))
    assert avg["taimatsu::exp"].cpu_time_total == pytest.approx(total)
    assert avg["taimatsu::exp"].cpu_time == pytest.approx(total / 4)
    grouped = prof.key_averages(group_by_input_shape=True)
    counts = {str(e.input_shapes): e.count for e in grouped}
    assert counts == {"[[3, 3]]": 3, "[[5, 5]]": 1}
    assert prof.events().total_average().count == 4


def test_table_layout():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with profile(record_shapes=True) as prof:
        with record_function("model_inference"):
            model(taimatsu.randn(3, 4))
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    lines = table.splitlines()
    assert lines[0].startswith("-") and lines[2].startswith("-")
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%",
                                "CPU", "total", "CPU", "time", "avg", "#", "of", "Calls"]
    rows = lines[3:-2]
    assert len(rows) == 2
    assert rows[0].split()[0] == "model_inference" and rows[0].split()[3] == "100.00%"
    assert lines[-1].startswith("Self CPU time total: ")
    assert table.endswith("\n")
    shaped = prof.key_averages(group_by_input_shape=True).table(row_limit=20)
    assert "Input Shapes" in shaped and "[[3, 4], [8, 4], [8]]" in shaped


def test_table_options():
    with profile(profile_memory=True) as prof:
        with record_function("outer"):
            taimatsu.ones(256).exp()
    table = prof.key_averages().table(top_level_events_only=True, header="My run")
    lines = table.splitlines()
    assert lines[0] == lines[2] == "=" * len(lines[4]) and lines[1] == "My run"
    assert lines[3] == "This report only display top-level ops statistics"
    assert "CPU Mem" in table and "Self CPU Mem" in table
    assert "taimatsu::exp" not in table  # not top level
    exp, = _by_name(prof.events(), "taimatsu::exp")
    assert exp.self_cpu_memory_usage == 256 * 4  # its float32 output
    outer, = _by_name(prof.events(), "outer")
    assert outer.cpu_memory_usage == 256 * 4 and outer.self_cpu_memory_usage == 0
    in_ms = prof.key_averages().table(time_unit="ms")
    assert "us " not in in_ms and "ms" in in_ms
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="bogus")


def test_views_allocate_nothing():
    x = taimatsu.randn(4, 4)
    with profile(profile_memory=True) as prof:
        x.t()
    assert prof.events()[0].self_cpu_memory_usage == 0


def test_chrome_trace(tmp_path):
    with profile(record_shapes=True) as prof:
        with record_function("region"):
            taimatsu.randn(2, 2).sum()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = {e["name"]: e for e in trace["traceEvents"]}
    assert {"region", "taimatsu::sum"} <= set(events)
    region, op = events["region"], events["taimatsu::sum"]
    assert region["ph"] == "X" and region["cat"] == "user_annotation"
    assert op["cat"] == "cpu_op" and op["args"]["Input Dims"] == [[2, 2]]
    assert region["ts"] <= op["ts"] and op["ts"] + op["dur"] <= region["ts"] + region["dur"] + 1e-3
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    assert json.loads(gzip.open(gz, "rt").read())["traceEvents"]


def test_record_function_decorator_and_no_profiler():
    @record_function("helper")
    def helper(n):
        return helper(n - 1) if n else taimatsu.ones(1).neg()

    helper(1)  # no profiler: a no-op
    with profile() as prof:
        helper(2)
    helpers = _by_name(prof.events(), "helper")
    assert len(helpers) == 3
    assert helpers[1].cpu_parent is helpers[0] and helpers[2].cpu_parent is helpers[1]


def test_region_left_by_an_exception_is_closed():
    with profile() as prof:
        with pytest.raises(ValueError):
            with record_function("failing"):
                raise ValueError
        taimatsu.ones(1).exp()
    failing, = _by_name(prof.events(), "failing")
    exp, = _by_name(prof.events(), "taimatsu::exp")
    assert exp.cpu_parent is None and failing.end_us <= exp.start_us


@pytest.mark.parametrize("kwargs, expected", [
    (dict(wait=1, warmup=1, active=2), [A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE,
                                        A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE]),
    (dict(wait=1, warmup=1, active=1, repeat=1), [A.NONE, A.WARMUP, A.RECORD_AND_SAVE, A.NONE,
                                                  A.NONE, A.NONE, A.NONE, A.NONE]),
    (dict(wait=2, warmup=1, active=1, skip_first=3, skip_first_wait=1),
     [A.NONE, A.NONE, A.NONE, A.WARMUP, A.RECORD_AND_SAVE, A.NONE, A.NONE, A.WARMUP]),
])
def test_schedule(kwargs, expected):
    fn = schedule(**kwargs)
    assert [fn(i) for i in range(8)] == expected


def test_schedule_validation():
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=0, warmup=0, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        schedule(wait=0, warmup=0, active=1)


def test_scheduled_profiling_calls_on_trace_ready():
    x = taimatsu.randn(4, 4)
    seen = []

    def ready(p):
        names = [e.name for e in p.events()]
        seen.append((p.step_num, [n for n in names if n.startswith("ProfilerStep")],
                     names.count("taimatsu::mm")))

    with pytest.warns(UserWarning, match="Profiler clears events at the end of each cycle"):
        with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
                     on_trace_ready=ready) as p:
            for _ in range(10):
                x.mm(x)
                p.step()
    assert seen == [(4, ["ProfilerStep#2", "ProfilerStep#3"], 2),
                    (8, ["ProfilerStep#6", "ProfilerStep#7"], 2)]
    assert [e.key for e in p.key_averages() if e.key.startswith("Profiler")] == ["ProfilerStep*"]


def test_acc_events_keeps_every_cycle():
    x = taimatsu.randn(2, 2)
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 acc_events=True) as p:
        for _ in range(4):
            x.exp()
            p.step()
    assert len(_by_name(p.events(), "taimatsu::exp")) == 2


def test_tensorboard_trace_handler(tmp_path):
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path), worker_name="w0")):
        taimatsu.ones(2).exp()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("w0.")
    assert files[0].name.endswith(".pt.trace.json")
    assert json.loads(files[0].read_text())["traceEvents"]


def test_with_stack_records_python_frames(tmp_path):
    def user_function():
        return taimatsu.ones(2).exp()

    with profile(with_stack=True) as prof:
        user_function()
    exp, = _by_name(prof.events(), "taimatsu::exp")
    frame = next(f for f in exp.stack if f.endswith(": user_function"))
    assert frame.startswith(__file__ + "(")
    assert not any("taimatsu/profiler" in f for f in exp.stack)
    table = prof.key_averages(group_by_stack_n=1).table()
    assert "Source Location" in table
    out = tmp_path / "stacks.txt"
    prof.export_stacks(str(out))
    assert out.read_text().strip().endswith(f";taimatsu::exp {int(exp.self_cpu_time_total)}")


def test_events_before_profiling_raise():
    with pytest.raises(AssertionError, match="Profiler must be initialized"):
        profile().events()


def test_legacy_autograd_profiler():
    from taimatsu.autograd import profiler as legacy
    x = taimatsu.randn(3, 3)
    prof = legacy.profile(record_shapes=True)
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        prof.key_averages()
    with prof:
        with legacy.record_function("block"):
            x.exp()
    assert [e.name for e in prof.function_events] == ["block", "taimatsu::exp"]
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events.self_cpu_time_total)
    assert "taimatsu::exp" in prof.table(sort_by="self_cpu_time_total")
    assert "Input Shapes" in str(prof)
    with legacy.profile(enabled=False) as off:
        x.exp()
    assert off.function_events is None
