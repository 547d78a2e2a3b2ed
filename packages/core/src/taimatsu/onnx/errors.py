"""The ONNX exporter's exceptions and warning, named as in torch.onnx.errors."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "OnnxExporterWarning", "SymbolicValueError",
           "UnsupportedOperatorError"]


class OnnxExporterWarning(UserWarning):
    """Something the exported graph may not reproduce (a value baked in as a constant)."""


class OnnxExporterError(RuntimeError):
    """The model could not be exported."""


class UnsupportedOperatorError(OnnxExporterError):
    """An operation the model ran has no ONNX translation."""

    def __init__(self, name: str, version: int, supported_version: int | None = None):
        if supported_version is not None:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                   f"supported. Support for this operator was added in version "
                   f"{supported_version}, try exporting with this version.")
        else:
            msg = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                   "supported.")
        super().__init__(msg)
        self.name = name


class SymbolicValueError(OnnxExporterError):
    """An operation's arguments cannot be expressed in ONNX (e.g. a size that depends on a
    dynamic axis in a way the exporter cannot follow)."""
