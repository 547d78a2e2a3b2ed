"""taimatsu.compile: PyTorch's `torch.compile` entry point for an eager framework.

taimatsu has no graph compiler: every op already runs as the NumPy/CuPy kernel it would be
compiled to. `compile` therefore returns the module or function itself, which is what
`torch.compile(backend="eager")` promises (same results, same parameters and state_dict
keys), after checking the arguments as torch does so that a misspelt mode or backend
fails here too.
"""

from __future__ import annotations

__all__ = ["compile"]

_MODES = (None, "default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model=None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend="inductor", mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, **kwargs):
    """Returns `model` unchanged (or a decorator doing so when `model` is None)."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in _MODES if m)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if not (backend is None or isinstance(backend, str) or callable(backend)):
        raise TypeError(f"backend must be a string or a callable, got {type(backend).__name__}")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, name=name, disable=disable,
                                  **kwargs)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
