"""torch.profiler's `profile`: a recording session with optional step schedule."""

from __future__ import annotations

import enum
import gzip
import json
import os
import socket
import time
import warnings

from ._collector import Collector, record_function
from ._events import EventList, chrome_trace

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "schedule",
           "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What to profile. taimatsu times ops on the host for every device; CUDA ops are
    timed as the host sees them (asynchronous kernels are not waited for)."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"


def supported_activities() -> set[ProfilerActivity]:
    """The activities this build can profile: CPU, and CUDA when a GPU is usable."""
    from .. import cuda
    found = {ProfilerActivity.CPU}
    if cuda.is_available():
        found.add(ProfilerActivity.CUDA)
    return found


class ProfilerAction(enum.Enum):
    """What the profiler does during a step, as a schedule returns it."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """A step -> ProfilerAction schedule: skip `skip_first` steps, then cycle through
    `wait` idle steps, `warmup` steps and `active` recorded steps (the last of which
    saves the trace), `repeat` times (0: until the profiler stops).

    With `skip_first_wait` set, the first cycle starts without its wait.
    """
    if not (wait >= 0 and warmup >= 0 and active > 0 and repeat >= 0 and skip_first >= 0):
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results")
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


class profile:
    """Records the ops (and `record_function` regions) run in its block.

        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            model(x)
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

    Args:
        activities: ProfilerActivity values (default: supported_activities())
        schedule: step -> ProfilerAction, see `schedule`; with one, call `step()` each
            iteration and each recorded step becomes a "ProfilerStep#N" region
        on_trace_ready: called with the profiler when a RECORD_AND_SAVE step ends (or,
            without a schedule, when profiling stops), e.g. tensorboard_trace_handler(dir)
        record_shapes: record each op's input shapes
        profile_memory: record the tensor memory each op allocates
        with_stack: record the Python call stack of each op
        acc_events: keep the events of every schedule cycle, not just the last one
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, acc_events: bool = False, use_cuda=None):
        activities = set(activities) if activities is not None else supported_activities()
        if use_cuda:
            activities.add(ProfilerActivity.CUDA)
        unknown = [a for a in activities if not isinstance(a, ProfilerActivity)]
        if unknown:
            raise TypeError(f"activities must be ProfilerActivity values, got {unknown[0]!r}")
        if not activities:
            raise AssertionError("No valid profiler activities found")
        self.activities = activities
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.acc_events = acc_events
        self.step_num = 0
        self.current_action = None
        self._collector: Collector | None = None
        self._kept: list = []          # finished cycles' events, with acc_events
        self._results: list | None = None
        self._step_region: record_function | None = None
        self._warned_cycles = False

    # -- session -----------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self._enter(self.current_action)
        self._begin_step()

    def stop(self) -> None:
        self._end_step()
        action, self.current_action = self.current_action, None
        if action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._finish_cycle()
        elif action == ProfilerAction.WARMUP:
            self._drop_collector()

    def step(self) -> None:
        """Marks the end of a training step: advances the schedule."""
        self._end_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(previous, self.current_action)
        self._begin_step()

    # -- schedule transitions ----------------------------------------------------------------
    def _enter(self, action) -> None:
        # Warm-up runs the collector too (so the first recorded step pays no start-up
        # cost); its events are dropped when recording begins.
        if action in (ProfilerAction.WARMUP, ProfilerAction.RECORD,
                      ProfilerAction.RECORD_AND_SAVE):
            self._start_collector()

    def _transit(self, previous, action) -> None:
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self._finish_cycle()
            self._enter(action)
        elif previous == ProfilerAction.WARMUP:
            if action in recording:
                self._collector.clear()  # warm-up ops are not part of the results
            elif action != ProfilerAction.WARMUP:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE")
                self._drop_collector()
        elif previous == ProfilerAction.RECORD:
            if action not in recording:
                warnings.warn("Incorrect schedule: RECORD followed by "
                              f"{action.name}")
                self._finish_cycle()
                self._enter(action)
        else:  # NONE (or stopped)
            self._enter(action)

    def _start_collector(self) -> None:
        if self._collector is None:
            self._collector = Collector(self.record_shapes, self.profile_memory,
                                        self.with_stack)
            self._collector.start()

    def _drop_collector(self) -> None:
        if self._collector is not None:
            self._collector.stop()
            self._collector = None

    def _finish_cycle(self) -> None:
        collector = self._collector
        self._drop_collector()
        if collector is None:
            return
        events = collector.finished_events()
        if self.acc_events:
            self._kept.extend(events)
            events = list(self._kept)
        elif self._results is not None and not self._warned_cycles:
            self._warned_cycles = True
            warnings.warn("Profiler clears events at the end of each cycle. Only events from "
                          "the current cycle will be reported. To keep events across "
                          "cycles, set acc_events=True.")
        self._results = events
        self._base_us = collector.base_us
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _begin_step(self) -> None:
        if self.record_steps and self._collector is not None:
            self._step_region = record_function(f"ProfilerStep#{self.step_num}")
            self._step_region.__enter__()

    def _end_step(self) -> None:
        if self._step_region is not None:
            self._step_region.__exit__(None, None, None)
            self._step_region = None

    # -- results -----------------------------------------------------------------------------
    def events(self) -> EventList:
        """The recorded FunctionEvents, ordered by start time."""
        if self._results is None:
            raise AssertionError("Profiler must be initialized before getting events")
        return EventList(self._results, profile_memory=self.profile_memory)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged per name (and per input shapes / stack when asked)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def export_chrome_trace(self, path) -> None:
        """Writes the recording as Chrome trace-event JSON (.gz paths are gzipped)."""
        trace = chrome_trace(self.events(), self._base_us)
        path = os.fspath(path)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "wt") as f:
            json.dump(trace, f)

    def export_stacks(self, path, metric: str = "self_cpu_time_total") -> None:
        """Writes "frame;frame;...;op value" lines (flame-graph input); needs with_stack."""
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        with open(os.fspath(path), "w") as f:
            for event in self.events():
                if event.stack and not event.is_user_annotation:
                    frames = ";".join(reversed(event.stack))
                    f.write(f"{frames};{event.name} {int(getattr(event, metric))}\n")


def tensorboard_trace_handler(dir_name, worker_name: str | None = None,
                              use_gzip: bool = False):
    """An on_trace_ready handler writing each trace to `dir_name` as
    `<worker>.<time in ns>.pt.trace.json[.gz]` (the layout TensorBoard's plugin reads)."""
    dir_name = os.fspath(dir_name)

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler
