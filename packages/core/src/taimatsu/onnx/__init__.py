"""taimatsu.onnx: export models to ONNX (torch.onnx's API).

`export(model, args, f, input_names=..., output_names=..., dynamic_axes=...,
opset_version=...)` runs the model once on `args` while recording every operation, then
writes the recorded graph with the `onnx` package (needed only for exporting:
`pip install onnx`; `pip install onnxruntime` to run the result).

How it works: _trace.py records the ops of a forward pass (_hooks.py covers the few that
bypass Function.apply), _runs.py runs the traces and _symbolic.py finds the sizes that
follow dynamic axes, the _ops_*.py files translate each op family into a _graph.py Graph,
_build.py assembles the model and _export.py ties it together.
"""

from __future__ import annotations

from . import errors
from ._export import export
from ._modes import (
    OperatorExportTypes,
    TrainingMode,
    is_in_onnx_export,
    select_model_mode_for_export,
)
from ._program import ONNXProgram
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "is_in_onnx_export", "select_model_mode_for_export", "TrainingMode",
           "OperatorExportTypes", "ONNXProgram", "OnnxExporterError",
           "UnsupportedOperatorError", "errors"]
