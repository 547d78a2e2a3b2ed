"""Signals in DataLoader workers, and how a dead worker is described to the user.

The main process does not need a SIGCHLD handler: it waits on each worker's process
sentinel together with its result pipe, so a worker that dies is noticed at once.
"""

from __future__ import annotations

import faulthandler
import signal


def set_worker_signal_handlers() -> None:
    """Called first thing in a worker process.

    Ctrl-C in a terminal sends SIGINT to the whole process group; the main process
    handles it and shuts the workers down, so workers ignore it instead of each
    printing a KeyboardInterrupt traceback. A crash (SIGSEGV, SIGBUS, SIGFPE, ...)
    prints the worker's Python traceback to stderr before the process dies.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        faulthandler.enable()
    except (RuntimeError, ValueError, OSError):  # stderr closed or not a real file
        pass


def describe_exit(exitcode: int | None) -> str:
    """'killed by signal SIGKILL (Killed)', 'exit code 3', or 'still running'."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
            return f"killed by signal {sig.name} ({signal.strsignal(sig)})"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
