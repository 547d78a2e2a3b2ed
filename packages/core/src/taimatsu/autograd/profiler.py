"""taimatsu.autograd.profiler: the older profiler interface (torch.autograd.profiler).

    with taimatsu.autograd.profiler.profile(record_shapes=True) as prof:
        model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

The same recorder as `taimatsu.profiler`, without schedules: one recording per block.
"""

from __future__ import annotations

from ..profiler._collector import Collector, record_function
from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg, chrome_trace

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]


class profile:
    """Records the ops and `record_function` regions run inside the block.

    Args:
        enabled: False makes the block a no-op (the results stay empty)
        record_shapes: record each op's input shapes
        profile_memory: record the tensor memory each op allocates
        with_stack: record the Python call stack of each op
        use_cuda, use_device, use_cpu, use_kineto: accepted as in PyTorch; ops are timed
            on the host whatever the device
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 acc_events: bool = False):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.function_events: EventList | None = None
        self._collector: Collector | None = None
        self.entered = False

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._collector = Collector(self.record_shapes, self.profile_memory, self.with_stack)
        self._collector.start()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        self._collector.stop()
        self.function_events = EventList(self._collector.finished_events(),
                                         profile_memory=self.profile_memory)
        return False

    def _check_finish(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def __str__(self):
        return str(self._check_finish())

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        return self._check_finish().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._check_finish().key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def total_average(self) -> FunctionEventAvg:
        return self._check_finish().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """Total self CPU time of all events, in microseconds."""
        return self._check_finish().self_cpu_time_total

    def export_chrome_trace(self, path) -> None:
        """Writes the events as Chrome trace-event JSON."""
        import json
        import os
        trace = chrome_trace(self._check_finish(), self._collector.base_us)
        with open(os.fspath(path), "w") as f:
            json.dump(trace, f)
