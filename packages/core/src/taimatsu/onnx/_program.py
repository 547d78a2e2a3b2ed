"""ONNXProgram: an exported model that can be saved, and run through onnxruntime."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .errors import OnnxExporterError


class ONNXProgram:
    """The result of taimatsu.onnx.export: `model_proto` (an onnx.ModelProto), `save()`,
    and calling it runs the model in onnxruntime on taimatsu tensors."""

    def __init__(self, model_proto):
        self.model_proto = model_proto
        self._session = None

    def __repr__(self) -> str:
        graph = self.model_proto.graph
        ins = ", ".join(i.name for i in graph.input)
        outs = ", ".join(o.name for o in graph.output)
        return (f"ONNXProgram(inputs=[{ins}], outputs=[{outs}], nodes={len(graph.node)}, "
                f"opset={self.model_proto.opset_import[0].version})")

    def save(self, destination, *, include_initializers: bool = True,
             keep_initializers_as_inputs: bool = False, external_data: bool | None = None):
        """Writes the model to a path or a binary file-like object."""
        from ._build import save_model
        model = self.model_proto
        if not include_initializers or keep_initializers_as_inputs:
            from onnx import helper
            model = type(model)()
            model.CopyFrom(self.model_proto)
            inits = list(model.graph.initializer)
            if keep_initializers_as_inputs:
                have = {i.name for i in model.graph.input}
                model.graph.input.extend(
                    helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                    for t in inits if t.name not in have)
            if not include_initializers:
                del model.graph.initializer[:]
        save_model(model, destination, external_data is not False)

    def _run_session(self):
        if self._session is None:
            try:
                import onnxruntime
            except ImportError as exc:
                raise ImportError("running an ONNXProgram needs onnxruntime: "
                                  "pip install onnxruntime") from exc
            self._session = onnxruntime.InferenceSession(
                self.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
        return self._session

    def _feeds(self, args, kwargs) -> dict:
        from ._inputs import leaves, split_args
        args, kwargs = split_args(args, kwargs)
        leaves = leaves(args) + leaves(kwargs)
        names = [i.name for i in self._run_session().get_inputs()]
        if len(leaves) > len(names):
            raise OnnxExporterError(f"the model takes {len(names)} inputs, got {len(leaves)}")
        return {n: np.asarray(t._data) for n, t in zip(names, leaves)}

    def __call__(self, *args, **kwargs) -> list:
        """Runs the model in onnxruntime; returns its outputs as taimatsu tensors."""
        outs = self._run_session().run(None, self._feeds(args, kwargs))
        return [Tensor._make(np.asarray(o)) for o in outs]

    def verify(self, args, kwargs, expected, rtol: float = 1e-4, atol: float = 1e-5) -> None:
        """Checks that onnxruntime reproduces `expected` (arrays) on these inputs."""
        got = self(*args, **dict(kwargs or {}))
        for i, (a, b) in enumerate(zip(got, expected)):
            a, b = a._data, np.asarray(b)
            if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol,
                                                     equal_nan=True):
                raise OnnxExporterError(f"verification failed: output {i} of the exported "
                                        "model differs from the traced model's")
