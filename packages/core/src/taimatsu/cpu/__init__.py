"""taimatsu.cpu: torch.cpu's device-agnostic counterparts of taimatsu.cuda's functions.

There is one CPU device and work on it is synchronous, so streams and events have nothing
to order: they exist so that code written against the CUDA API also runs on the CPU.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from . import amp

__all__ = ["is_available", "is_initialized", "synchronize", "current_device",
           "current_stream", "stream", "set_device", "device_count", "Stream",
           "StreamContext", "Event"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """The number of CPU devices (not cores): always 1."""
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Nothing to select: there is one CPU device."""


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work has finished when its call returns."""


class Stream:
    """The CPU's (only, synchronous) stream."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream) -> None:
        pass

    def record_event(self) -> None:
        pass

    def wait_event(self, event) -> None:
        pass


class Event:
    """An event on the CPU stream: complete as soon as it is recorded."""

    def query(self) -> bool:
        return True

    def record(self, stream=None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream=None) -> None:
        pass


_default_stream = Stream()
_current_stream = _default_stream


def current_stream(device=None) -> Stream:
    return _current_stream


class StreamContext(AbstractContextManager):
    """Makes `stream` current inside the block (None: leaves the current one)."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = _default_stream

    def __enter__(self):
        global _current_stream
        if self.stream is not None:
            self.prev_stream = _current_stream
            _current_stream = self.stream

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        global _current_stream
        if self.stream is not None:
            _current_stream = self.prev_stream


def stream(stream) -> AbstractContextManager:
    return StreamContext(stream)
