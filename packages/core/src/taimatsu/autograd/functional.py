"""autograd.functional: vjp, jvp, jacobian, hessian, vhp and hvp of a Python function.

Everything is built on reverse mode (`autograd.grad`). Forward-mode products (jvp, hvp)
use the double-backward trick: the gradient of a vector-Jacobian product with respect to
its (dummy) vector is linear in that vector, and differentiating it once more gives J v.
Inputs and outputs may be a Tensor or a tuple of Tensors; results keep that nesting.
"""

from __future__ import annotations

from . import grad as _grad
from . import grad_mode

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, arg_name: str, fn_name: str):
    """(was_tuple, x as a tuple of Tensors), with PyTorch's TypeError for anything else."""
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return False, (x,)
    if not isinstance(x, tuple):
        raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                        f"of Tensors but the given {arg_name} has type {type(x)}.")
    for i, el in enumerate(x):
        if not isinstance(el, Tensor):
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the value at index {i} has type "
                            f"{type(el)}.")
    return True, x


def _unpack(res, was_tuple):
    """Undoes _as_tuple; `was_tuple` is a bool, or (outer, inner) for nested results."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if was_tuple else res[0]


def _prepare(inputs, create_graph: bool, need_graph: bool):
    """Fresh tensors to differentiate against.

    With create_graph an input that requires grad is aliased (so the result stays
    differentiable with respect to the caller's tensor); otherwise it is detached.
    """
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(results, create_graph: bool):
    """Results are detached unless a graph of them was asked for."""
    if create_graph:
        return results
    return tuple(None if r is None else
                 _finish(r, False) if isinstance(r, tuple) else r.detach() for r in results)


def _validate_v(v, other, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {el_other.shape} but "
                               f"got {el_v.shape}.")


_NOT_DIFFERENTIABLE = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when "
               "running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of "
                   "the user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should "
               "ensure that your function is thrice differentiable and that the hessian "
               "depends on the inputs.",
}


def _check_requires_grad(tensors, kind: str, strict: bool) -> None:
    """In strict mode, every tensor of `kind` must depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NOT_DIFFERENTIABLE[kind].format(i=i))


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Replaces missing gradients by zeros shaped like `refs` (an error in strict mode)."""
    from ..ops.creation import zeros_like
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        out.append(g)
    return tuple(out)


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, grads = zip(*pairs)
    return _grad(outs, inputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)


def _prepare_v(v, like, like_is_tuple, create_graph, fn_name, v_none_message):
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(v_none_message)
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
    _validate_v(v, like, like_is_tuple)
    return v


_V_FOR_OUTPUT = ("The vector v can only be None if the user-provided function returns a "
                 "single Tensor with a single element.")
_V_FOR_INPUT = ("The vector v can only be None if the input to the user-provided function is "
                "a single Tensor with a single element.")


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Jacobian product v^T J of `func` at `inputs`.

    Returns:
        (func(*inputs), vjp), each shaped like func's outputs / `inputs` respectively.
    """
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, outputs_tuple, create_graph, "vjp", _V_FOR_OUTPUT)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Jacobian-vector product J v of `func` at `inputs` (double-backward trick).

    Returns:
        (func(*inputs), jvp), the jvp shaped like func's outputs.
    """
    from ..ops.creation import zeros_like
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_tuple, create_graph, "jvp", _V_FOR_INPUT)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # g -> J^T g is linear, so the dummy g's value never reaches the result; zeros
        # keep inf/nan out of it.
        dummies = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(grad_inputs, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, outputs, strict, create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), outputs_tuple))


_STRATEGIES = ("forward-mode", "reverse-mode")


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of `func` at `inputs`.

    Entry [i][j] has shape outputs[i].shape + inputs[j].shape; the tuple levels are
    dropped where `func` returns a single Tensor or `inputs` is a single Tensor.
    `vectorize` is accepted for compatibility; the result is computed the same way.
    """
    if strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         "Hint: If your function has more outputs than inputs, "
                         '"forward-mode" tends to be more performant. Otherwise, prefer '
                         'to use "reverse-mode".')
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                           "function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if strategy == "forward-mode":
            jac = _jacobian_columns(outputs, inputs, create_graph, strict)
        else:
            jac = _jacobian_rows(outputs, inputs, create_graph, strict)
    return _unpack(_finish(jac, create_graph), (outputs_tuple, inputs_tuple))


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """Reverse mode: one vector-Jacobian product per output element."""
    from ..ops.creation import zeros_like
    from ..ops.join import stack
    jac = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        flat = out.reshape(-1)
        for k in range(out.numel()):
            grads = _autograd_grad((flat[k],), inputs, retain_graph=True,
                                   create_graph=create_graph)
            for j, (g, inp) in enumerate(zip(grads, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is "
                                           f"independent of input {j}. This is not allowed "
                                           "in strict mode.")
                    g = zeros_like(inp)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in "
                                       "strict mode when create_graph=True.")
                rows[j].append(g)
        jac.append(tuple(_stacked(stack, r, tuple(out.shape), tuple(inp.shape), 0, inp)
                         for r, inp in zip(rows, inputs)))
    return tuple(jac)


def _jacobian_columns(outputs, inputs, create_graph, strict):
    """Forward mode: one Jacobian-vector product per input element (double backward)."""
    from ..ops.creation import zeros_like
    from ..ops.join import stack
    dummies = tuple(zeros_like(o, requires_grad=True) for o in outputs)
    grad_inputs = _autograd_grad(outputs, inputs, dummies, create_graph=True)
    _check_requires_grad(grad_inputs, "grad_inputs", strict)
    cols = [[[] for _ in inputs] for _ in outputs]
    for j, (inp, g_in) in enumerate(zip(inputs, grad_inputs)):
        for k in range(inp.numel()):
            if g_in is None:
                jv = (None,) * len(outputs)
            else:
                basis = zeros_like(inp).reshape(-1)
                basis[k] = 1
                jv = _autograd_grad((g_in,), dummies, (basis.reshape(inp.shape),),
                                    retain_graph=True, create_graph=create_graph)
            jv = _fill_in_zeros(jv, outputs, strict, create_graph, "back_trick")
            for i, col in enumerate(jv):
                cols[i][j].append(col)
    return tuple(tuple(_stacked(stack, cols[i][j], tuple(out.shape), tuple(inp.shape), -1,
                                out)
                       for j, inp in enumerate(inputs))
                 for i, out in enumerate(outputs))


def _stacked(stack, pieces, out_shape, in_shape, dim, like):
    """Stacks per-element derivatives into an out_shape + in_shape Jacobian block."""
    if not pieces:  # an empty output or input: nothing to stack
        from ..ops.creation import zeros
        return zeros(out_shape + in_shape, dtype=like.dtype, device=like.device)
    if dim == 0:  # rows: one gradient (in_shape) per output element
        return stack(pieces, dim=0).reshape(out_shape + in_shape)
    flat = [p.reshape(-1) for p in pieces]  # columns: one out_shape tangent per input element
    return stack(flat, dim=-1).reshape(out_shape + in_shape)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar-valued `func` at `inputs`.

    Entry [i][j] has shape inputs[i].shape + inputs[j].shape; a single Tensor input
    gives a single Tensor.
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.reshape(())

    def jac_func(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (inputs_tuple, inputs_tuple))


def _scalar_output(func, inputs, fn_name, strict):
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if outputs_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")
    return outputs_tuple, outputs


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Hessian product v^T H of a scalar-valued `func` at `inputs`.

    Returns:
        (func(*inputs), vhp), the vhp shaped like `inputs`.
    """
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_tuple, create_graph, "vhp", _V_FOR_INPUT)
        outputs_tuple, outputs = _scalar_output(func, inputs, "vhp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Hessian-vector product H v of a scalar-valued `func` at `inputs`.

    Computed with the double-backward trick; for twice-differentiable functions H is
    symmetric, so this equals vhp.

    Returns:
        (func(*inputs), hvp), the hvp shaped like `inputs`.
    """
    from ..ops.creation import zeros_like
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_tuple, create_graph, "hvp", _V_FOR_INPUT)
        outputs_tuple, outputs = _scalar_output(func, inputs, "hvp", strict)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        dummies = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _autograd_grad(jac, inputs, dummies, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _autograd_grad(double_back, dummies, v, create_graph=create_graph)
        result = _fill_in_zeros(grads, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))
