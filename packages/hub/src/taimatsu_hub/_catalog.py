"""What is registered: `list` and `help` (torch.hub's names, over the plugin registry)."""

from __future__ import annotations

import inspect

from taimatsu import plugins


def list_models(domain: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally of one domain ("vision", ...)."""
    return plugins.list_models(domain=domain)


def help_text(name: str) -> str:
    """A model's documentation: its docstring, weights, reported metrics and preprocessing."""
    entry = plugins.model_registry().get(name)
    where = ", ".join(x for x in (entry.domain, entry.task) if x)
    lines = [f"{name} ({where}; plugin {entry.plugin or '-'})" if where else name, ""]
    doc = inspect.getdoc(entry.obj) or entry.description
    if doc:
        lines += [doc, ""]
    if not entry.weights:
        lines.append("Weights: none registered (load it with weights=None)")
    else:
        lines.append("Weights:")
    for i, w in enumerate(entry.weights):
        origin = f"{w.repo_id}/{w.filename}" if w.repo_id else (w.filename or "-")
        lines.append(f"  {w.name}{' (DEFAULT)' if i == 0 else ''}: {origin}")
        if w.num_params is not None:
            lines.append(f"    parameters: {w.num_params:,}")
        if w.metrics:
            lines.append("    metrics: " + ", ".join(f"{k}={v}" for k, v in w.metrics.items()))
        if w.transforms is not None:
            lines.append(f"    preprocessing: {_preset(w)}")
    return "\n".join(lines).rstrip() + "\n"


def _preset(weights) -> str:
    """The preprocessing preset, shown as what `weights.transforms()` builds."""
    try:
        return repr(weights.transforms())
    except Exception as exc:  # a preset that cannot be built here still gets named
        name = getattr(weights.transforms, "__name__", repr(weights.transforms))
        return f"{name} (cannot build it: {type(exc).__name__}: {exc})"
