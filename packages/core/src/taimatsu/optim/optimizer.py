"""Optimizer: the base class of every optimizer, with PyTorch's contract.

Parameter groups, per-parameter state, state_dict / load_state_dict in PyTorch's layout
(so checkpoints interchange with torch's), zero_grad, step hooks and the step closure.

Updates are whole-array operations on the parameters' backend arrays (`p._data`), done in
place outside autograd. Each optimizer writes its update once, as an elementwise kernel on
arrays; `_Foreach` runs it per large parameter and once over all small ones packed
together, and `_Scratch` hands out reusable temporaries so a step allocates nothing once
warmed up.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .. import _dtype as D
from .. import backend
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.grad_mode import enable_grad
from ..autograd.hooks import RemovableHandle

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
           "required"]


class _RequiredParameter:
    """Marks a hyperparameter that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None or (args, kwargs), before every optimizer's step."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None, after every optimizer's step."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


# -- helpers shared by the optimizers ---------------------------------------------------------

def _typename(obj) -> str:
    """torch.typename: a tensor's legacy type name, else module.qualname."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        name = obj.__qualname__
    elif hasattr(obj, "__name__"):
        name = obj.__name__
    else:
        module = type(obj).__module__ or ""
        name = type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def _value(x):
    """A hyperparameter as a Python number (a 1-element tensor gives its value)."""
    return x.item() if isinstance(x, Tensor) else x


def _scalar_dtype() -> D.dtype:
    """The dtype of 'step'-like state: float64 under a float64 default dtype, else float32."""
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32


def _scalar_state(value: float, like: Tensor | None = None, fused: bool = False) -> Tensor:
    """A 0-dim state tensor ('step', 'mu_product'), on the CPU unless `like` places it.

    float32 (float64 under a float64 default dtype; always float32 for fused groups)."""
    arr = np.array(value, dtype=np.float32 if fused else _scalar_dtype().np)
    if like is not None and like.is_cuda:
        arr = backend.of(like._data).asarray(arr)
    return Tensor._make(arr)


def _zeros_state(p: Tensor, fill=0) -> Tensor:
    """A state tensor shaped, typed and placed like the parameter (same memory layout)."""
    xp = backend.of(p._data)
    arr = xp.zeros_like(p._data) if fill == 0 else xp.full_like(p._data, fill)
    return Tensor._make(arr)


def _real(arr):
    """Complex arrays as real ones with a trailing dimension of 2 (torch.view_as_real)."""
    if arr.dtype.kind != "c":
        return arr
    return arr[..., None].view(arr.real.dtype)


def _advance(step: Tensor) -> float:
    """Adds one to a 'step' state tensor in place and returns the new count."""
    arr = step._data
    arr += 1
    return float(arr)


def _grad_for_update(p, g, weight_decay: float, maximize: bool, out):
    """The gradient the update uses: negated under maximize, plus weight_decay * p (L2).

    Written into `out` when it differs from `g` (which belongs to the user's .grad)."""
    xp = backend.of(p)
    if weight_decay != 0:
        xp.multiply(p, weight_decay, out=out)
        if maximize:
            xp.subtract(out, g, out=out)
        else:
            xp.add(g, out, out=out)
        return out
    if maximize:
        return xp.negative(g, out=out)
    return g


def _lerp_(start, end, weight: float, tmp) -> None:
    """start += weight * (end - start) in place, rounded like torch.lerp_."""
    xp = backend.of(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:  # torch switches formula so that weight == 1 lands exactly on `end`
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)


def _bump(p: Tensor) -> None:
    """Records an in-place change, so autograd notices saved tensors that were modified."""
    p._vc[0] += 1


class _Scratch:
    """Reusable temporary arrays for the in-place updates.

    One flat buffer per (device, dtype), grown to the largest request and carved into
    arrays of the requested shape: steps after the first allocate nothing.
    """

    __slots__ = ("_flat",)

    def __init__(self):
        self._flat = {}

    def get(self, like, n: int = 1, dtype=None, tag: str = ""):
        """`n` arrays shaped like `like` (of its dtype unless given), one if n == 1.

        Requests with different tags never share memory (packing vs. kernel temporaries)."""
        dtype = like.dtype if dtype is None else np.dtype(dtype)
        out = self.flat(like, like.size, n, dtype, tag)
        shape = like.shape
        if n == 1:
            return out[0].reshape(shape)
        return [a.reshape(shape) for a in out]

    def flat(self, like, size: int, n: int, dtype, tag: str = "") -> list:
        """`n` flat arrays of `size` elements on `like`'s device."""
        key = (dtype, tag) if type(like) is np.ndarray else (like.device.id, dtype, tag)
        buf = self._flat.get(key)
        if buf is None or buf.size < n * size:
            buf = backend.of(like).empty(n * size, dtype=dtype)
            self._flat[key] = buf
        return [buf[i * size:(i + 1) * size] for i in range(n)]


class _Foreach:
    """Runs an elementwise update kernel over a group's parameters, packing small ones.

    `kernel(*arrays, *args, scratch, **options)` updates its arrays in place (all but the
    gradient, arrays[1]). Every kernel is elementwise, so running it once over the
    concatenation of many small parameters gives bit-identical results to running it on
    each: small parameters (biases, norms) are gathered into flat buffers, updated with
    one call per operation instead of one per parameter, and scattered back. Large ones
    are updated in place directly, where copies would cost more than calls.
    """

    PACK_LIMIT = 1024  # elements; beyond this, gathering and scattering cost more than calls

    def __init__(self, kernel, scratch: _Scratch, enabled, **options):
        self.kernel = kernel
        self.scratch = scratch
        self.options = options
        self.enabled = enabled is not False  # foreach=None lets us choose, as in torch
        self.pending: dict = {}

    def add(self, arrays: tuple, *args) -> None:
        """Updates now (large or unpackable) or queues for the packed run."""
        p = arrays[0]
        if not self.enabled or p.size > self.PACK_LIMIT:
            self.kernel(*arrays, *args, self.scratch, **self.options)
            return
        device = getattr(p, "device", None)  # CuPy's Device objects are not hashable
        key = (type(p), getattr(device, "id", device), p.dtype, args,
               tuple(a is None for a in arrays))
        self.pending.setdefault(key, []).append(arrays)

    def flush(self) -> None:
        for (_, _, _, args, _), rows in self.pending.items():
            if len(rows) == 1:
                self.kernel(*rows[0], *args, self.scratch, **self.options)
            else:
                self._packed(rows, args)
        self.pending.clear()

    def _packed(self, rows: list, args: tuple) -> None:
        xp = backend.of(rows[0][0])
        sizes = [r[0].size for r in rows]
        total = sum(sizes)
        ncols = len(rows[0])
        buffers = self.scratch.flat(rows[0][0], total, ncols, rows[0][0].dtype, tag="pack")
        flats = []
        for j in range(ncols):
            column = [r[j] for r in rows]
            if column[0] is None:
                flats.append(None)
                continue
            flat = buffers[j]
            xp.concatenate([a.reshape(-1) for a in column], out=flat)
            flats.append(flat)
        self.kernel(*flats, *args, self.scratch, **self.options)
        for j, flat in enumerate(flats):
            if flat is None or j == 1:  # the gradient is only read
                continue
            start = 0
            for r, n in zip(rows, sizes):
                target = r[j]
                xp.copyto(target, flat[start:start + n].reshape(target.shape))
                start += n


def _use_grad(func):
    """Runs an optimizer's step with graph recording off (the update is not differentiable)."""

    @functools.wraps(func)
    def step(*args, **kwargs):
        prev = grad_mode._enabled[0]
        grad_mode._enabled[0] = False
        try:
            return func(*args, **kwargs)
        finally:
            grad_mode._enabled[0] = prev
    return step


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonneg(name: str, value) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _check_fused(optimizer_defaults: dict) -> None:
    if optimizer_defaults.get("fused"):
        if optimizer_defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if optimizer_defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


# -- the base class ----------------------------------------------------------------------------

class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts defining
            parameter groups. Use an ordered collection (not a set).
        defaults: default values of the optimization options, used by groups that don't
            set them.
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._patch_step_function()

        if defaults.get("differentiable"):
            # The update runs on backend arrays outside autograd; pretending otherwise
            # would silently drop the gradients a user asked for.
            raise RuntimeError("differentiable=True is not supported: taimatsu optimizers "
                               "update parameters outside autograd")
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))

        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling / copying ------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- step and its hooks --------------------------------------------------------------------
    def _patch_step_function(self) -> None:
        """Wraps this class's step once so that the step hooks run around it."""
        cls = self.__class__
        if not getattr(cls.step, "hooked", False):
            cls.step = self._hooked_step(cls.step)
            cls.step.hooked = True

    @staticmethod
    def _hooked_step(func):
        @functools.wraps(func)
        def step(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_pre_hooks.values(),
                                  self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(),
                                   _global_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out
        return step

    def step(self, closure=None):
        """Performs one optimization step; subclasses define the update."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    @staticmethod
    def _closure_loss(closure):
        """Re-evaluates the model through `closure`, with graph recording on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None or (args, kwargs), before step()."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None, after step()."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # -- state_dict ----------------------------------------------------------------------------
    @staticmethod
    def _register(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) -> None, before state_dict()."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, after state_dict()."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, before load_state_dict()."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook,
                                           prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) -> None, after load_state_dict()."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: {'state': {index: {...}}, 'param_groups': [...]}.

        Parameters are replaced by their index in the order of the groups, as in PyTorch,
        so the result loads into torch.optim and back.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        index_of: dict[int, int] = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param: Tensor, value: Tensor, param_id,
                                                 param_groups, key=None) -> Tensor:
        """Casts loaded state like PyTorch: floats follow the parameter's dtype and device;
        'step' stays as saved (unless the group is fused or capturable)."""
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=D.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state made by state_dict() (here or in PyTorch, after converting tensors)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        saved_param_groups = state_dict["param_groups"]

        def cast(param, value, param_id=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, saved_param_groups, key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, param_id=k)
            else:
                state[k] = v  # state not tied to a parameter is kept as is, like torch

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- gradients and groups ------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all optimized tensors (to None by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if g._grad_fn is not None:
                    g.detach_()
                else:
                    g._rg = False
                g._data.fill(0)
                _bump(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a group of parameters (with its own options) to optimize."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set: set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not param_set.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- for subclasses ----------------------------------------------------------------------
    @property
    def _scratch(self) -> _Scratch:
        scratch = self.__dict__.get("_scratch_cache")
        if scratch is None:
            scratch = self.__dict__["_scratch_cache"] = _Scratch()
        return scratch

    @staticmethod
    def _with_grad(group: dict):
        """The group's parameters that have a gradient, with those gradients' arrays."""
        return [(p, p._grad._data) for p in group["params"] if p._grad is not None]

    def _fill_group_defaults(self, scalar_state=("step",), **defaults) -> None:
        """For state saved by older versions: missing group options get their defaults and
        plain-number scalar state ('step') becomes a 0-dim tensor, as torch's __setstate__."""
        for group in self.param_groups:
            for key, value in defaults.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for key in scalar_state:
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_state(float(p_state[key]))
