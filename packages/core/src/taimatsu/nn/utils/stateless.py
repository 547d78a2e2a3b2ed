"""functional_call: run a module with some of its parameters and buffers swapped out.

The given tensors take the place of the module's own (by dotted name) for one call, so the
output is differentiable with respect to them; the module is restored afterwards.
Equivalent to PyTorch's `torch.func.functional_call` (taimatsu has no `func` package).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module: Module, given: dict) -> dict:
    """Adds, for each given name of a tied tensor, the same value under its other names."""
    by_tensor: dict[int, set] = {}
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    for name, t in named.items():
        by_tensor.setdefault(id(t), set()).add(name)
    tied = {n: names for names in by_tensor.values() if len(names) > 1 for n in names}
    out = dict(given)
    for name in given:
        if name not in tied:
            continue
        names = tied[name]
        values = {id(given[n]) for n in names if n in given}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             "which are tied. Consider using tie_weights=False")
        for other in names:
            out[other] = given[name]
    return out


def _check_keys(module: Module, names) -> None:
    valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    missing, unexpected = sorted(valid - set(names)), sorted(set(names) - valid)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                           + "\n\t".join(msgs))


def _swap(module: Module, name: str, value):
    """Puts value at dotted `name` (bypassing Parameter checks); returns what was there."""
    *path, attr = name.split(".")
    for part in path:
        module = getattr(module, part)
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of taimatsu.Tensor")
    for store in (module._parameters, module._buffers):
        if attr in store:
            old = store[attr]
            if value is _MISSING:
                del store[attr]
            else:
                store[attr] = value
            return old
    old = getattr(module, attr, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{attr}`: {old} is not an instance of taimatsu.Tensor")
    if value is not _MISSING:
        setattr(module, attr, value)
    elif old is not _MISSING:
        delattr(module, attr)
    return old


@contextlib.contextmanager
def _reparametrize_module(module: Module, tensors: dict, tie_weights: bool = False,
                          strict: bool = False):
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        _check_keys(module, tensors)
    originals = {}
    try:
        for name, value in tensors.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        for name, old in reversed(list(originals.items())):
            _swap(module, name, old)


def functional_call(module: Module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) with the given tensors in place of its own.

    Args:
        parameter_and_buffer_dicts: {dotted name: tensor}, or a sequence of such dicts
        args: one argument or a tuple of positional arguments
        tie_weights: a value given for one of several tied names is used for all of them
        strict: the given names must be exactly the module's parameters and buffers
    """
    if isinstance(parameter_and_buffer_dicts, Mapping):
        tensors = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        tensors = {}
        seen: set = set()
        repeated = []
        for d in parameter_and_buffer_dicts:
            repeated += [k for k in d if k in seen]
            seen |= set(d)
            tensors.update(d)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, tensors, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))
