"""Profiler results: one FunctionEvent per timed region, EventList tables and traces.

Times are in microseconds (floats), memory in bytes, as in PyTorch's profiler results.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg"]


class FunctionEvent:
    """One timed region: an op (`taimatsu::<op>`) or a `record_function` block.

    Attributes:
        id, name, thread: identity, the region's name and the thread it ran in
        start_us, end_us: start and end, microseconds since the profiler started
        input_shapes: the shape of each positional input ([] for non-tensors) when
            `record_shapes` is on, else []
        cpu_children, cpu_parent: the regions directly inside / around this one
        cpu_memory_usage: bytes of tensor memory allocated in the region (with
            `profile_memory`), its children's included
        stack: the Python call stack, innermost frame first (with `with_stack`)
        is_user_annotation: True for `record_function` regions
    """

    def __init__(self, id, name, thread, start_us, input_shapes=None, stack=None,
                 is_user_annotation=False):
        self.id = id
        self.name = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.is_user_annotation = is_user_annotation
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.self_cpu_memory_usage = 0
        self.count = 1
        self.device_type = "CPU"

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    # Device time is not measured separately: ops are timed on the host.
    device_time_total = self_device_time_total = device_time = 0.0
    cuda_time_total = self_cuda_time_total = cuda_time = 0.0

    @property
    def time_range(self) -> Interval:
        return Interval(self.start_us, self.end_us)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{_format_time(self.cpu_time_total)} start_us={self.start_us:.3f} "
                f"end_us={self.end_us:.3f} cpu_children={[c.id for c in self.cpu_children]} "
                f"thread={self.thread} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class Interval:
    """A [start, end] time range in microseconds."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float):
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start


class FunctionEventAvg:
    """Events of one key (name, and shapes or stack when grouped) summed up."""

    def __init__(self):
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.is_user_annotation = False
        self.cpu_parent = None  # the first event's parent: top_level_events_only reads it
        self.device_type = "CPU"

    device_time_total = self_device_time_total = device_time = 0.0
    cuda_time_total = self_cuda_time_total = cuda_time = 0.0

    def add(self, other) -> FunctionEventAvg:
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
        elif other.key != self.key:
            raise AssertionError(f"cannot add an event of key {other.key!r} to one of key "
                                 f"{self.key!r}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    __iadd__ = add

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_format_time(self.self_cpu_time_total)} cpu_time="
                f"{_format_time(self.cpu_time)} input_shapes={self.input_shapes or ''} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of FunctionEvent (or of FunctionEventAvg, from key_averages)."""

    def __init__(self, *args, profile_memory: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One FunctionEventAvg per name (and per input shapes / top stack frames)."""
        groups: dict[tuple, FunctionEventAvg] = defaultdict(FunctionEventAvg)
        for event in self:
            key = [_step_key(event.key), event.is_user_annotation]
            if group_by_input_shape:
                key.append(str(event.input_shapes))
            if group_by_stack_n > 0:
                key.append(tuple(event.stack[:group_by_stack_n]))
            groups[tuple(key)].add(_Renamed(event, key[0]))
        averages = EventList(groups.values(), profile_memory=self._profile_memory)
        for avg in averages:
            avg.stack = avg.stack[:group_by_stack_n] if group_by_stack_n > 0 else None
            if not group_by_input_shape:
                avg.input_shapes = None
        return averages

    def total_average(self) -> FunctionEventAvg:
        """All events summed into one FunctionEventAvg with key "Total"."""
        total = FunctionEventAvg()
        for event in self:
            total.count += event.count
            total.cpu_time_total += event.cpu_time_total
            total.self_cpu_time_total += event.self_cpu_time_total
            total.cpu_memory_usage += event.cpu_memory_usage
            total.self_cpu_memory_usage += event.self_cpu_memory_usage
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """The events as a text table, one row each (see profiler.profile for an example).

        Args:
            sort_by: an attribute to sort by, largest first ("cpu_time_total",
                "self_cpu_time_total", "cpu_memory_usage", "count", ...)
            row_limit: print at most this many rows
            top_level_events_only: only events without a parent region
            time_unit: "s", "ms" or "us" for every time (default: each its own unit)
        """
        from ._table import build_table
        return build_table(self, sort_by=sort_by, row_limit=row_limit,
                           max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, header=header,
                           profile_memory=self._profile_memory,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path, base_us: float = 0.0) -> None:
        """Writes the events as a Chrome trace (open it in chrome://tracing or Perfetto)."""
        trace = chrome_trace(self, base_us)
        with open(os.fspath(path), "w") as f:
            json.dump(trace, f)


def chrome_trace(events, base_us: float = 0.0) -> dict:
    """The Chrome trace-event JSON object for FunctionEvents (complete "X" events)."""
    pid = os.getpid()
    out = []
    for e in events:
        entry = {"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                 "name": e.name, "pid": pid, "tid": e.thread,
                 "ts": round(base_us + e.start_us, 3), "dur": round(e.cpu_time_total, 3),
                 "args": {"Ev Idx": e.id}}
        if e.input_shapes:
            entry["args"]["Input Dims"] = e.input_shapes
        if e.stack:
            entry["args"]["Call stack"] = ";".join(e.stack)
        out.append(entry)
    return {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": out}


class _Renamed:
    """An event seen under another key (ProfilerStep#N counts as ProfilerStep*)."""

    def __init__(self, event, key):
        self._event = event
        self.key = key

    def __getattr__(self, name):
        return getattr(self._event, name)


def _step_key(key: str) -> str:
    return "ProfilerStep*" if key.startswith("ProfilerStep#") else key


def _format_time(us: float, unit: str | None = None) -> str:
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _format_share(part: float, total: float) -> str:
    return "NaN" if total == 0 else f"{part * 100 / total:.2f}%"
