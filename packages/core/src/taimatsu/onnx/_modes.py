"""Training modes and the export-time state: is_in_onnx_export, the model's modes and
parameters, which an export must leave as it found them."""

from __future__ import annotations

import contextlib
import enum

import numpy as np


class TrainingMode(enum.IntEnum):
    """The mode the model is exported in: EVAL, PRESERVE (as it is) or TRAINING."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2

    __str__ = enum.Enum.__str__  # "TrainingMode.EVAL", as torch prints it


class OperatorExportTypes(enum.IntEnum):
    """How operators are exported; only ONNX (standard operators) is produced here."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3

    __str__ = enum.Enum.__str__


_exporting = [False]


def is_in_onnx_export() -> bool:
    """True while taimatsu.onnx.export is tracing the model's forward pass."""
    return _exporting[0]


@contextlib.contextmanager
def select_model_mode_for_export(model, mode: TrainingMode):
    """Puts the model in the mode asked for; restores every submodule's mode on exit."""
    if not isinstance(mode, TrainingMode):
        raise TypeError(f"'mode' should be a taimatsu.onnx.TrainingMode enum, but got "
                        f"'{type(mode)}'.")
    modules = list(model.modules()) if hasattr(model, "modules") else []
    saved = [(m, m.training) for m in modules]
    try:
        if mode is not TrainingMode.PRESERVE and hasattr(model, "train"):
            model.train(mode is TrainingMode.TRAINING)
        yield
    finally:
        for m, flag in saved:
            m.training = flag


@contextlib.contextmanager
def preserved_state(params: dict):
    """Restores the model's parameters and buffers after the traces (a forward pass in
    training mode updates running statistics; the export must not, and exports the state
    the model had when export was called)."""
    arrays = {id(obj): obj for obj, _ in params.values() if isinstance(obj, np.ndarray)}
    saved = [(a, a.copy()) for a in arrays.values()]
    try:
        yield
    finally:
        for a, copy in saved:
            np.copyto(a, copy)


@contextlib.contextmanager
def exporting():
    previous = _exporting[0]
    _exporting[0] = True
    try:
        yield
    finally:
        _exporting[0] = previous
