"""Op-test descriptions for nn.functional activations (shared by core and parity tests).

Inputs keep away from each activation's kinks (0 for relu, +-1 for hardtanh, +-3 for the
hard sigmoids, +-lambd for the shrinks) so that finite differences are meaningful there.
"""

import numpy as np

import taimatsu
from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase


def _avoiding(*kinks, low=-3.0, high=3.0, gap=0.05):
    """Uniform values in [low, high], each at least `gap` away from every kink."""
    def make(rng, shape, dtype):
        x = rng.uniform(low, high, shape)
        for k in kinks:
            near = np.abs(x - k) < gap
            x[near] = k + np.where(x[near] < k, -2 * gap, 2 * gap)
        return x.astype(dtype)
    return make


def _positive(rng, shape, dtype):
    return rng.uniform(0.1, 0.5, shape).astype(dtype)


def _wide(rng, shape, dtype):
    """Logits up to +-60: softmax has to subtract the max to stay finite."""
    return rng.uniform(-60, 60, shape).astype(dtype)


def X(*kinks, shape=(3, 4), **kw):
    return Arg(shape, fn=_avoiding(*kinks, **kw))


def case(name, inputs, op=None, torch_name=None, **kwargs):
    base = name.split("[")[0]
    return OpCase(name, op=op or getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=f"nn.functional.{torch_name or base}")


CASES = [
    case("relu", [X(0)]),
    case("relu[3d]", [X(0, shape=(2, 3, 4))]),
    case("relu6", [X(0, 6, low=-2, high=8)]),
    case("hardtanh", [X(-1, 1)]),
    case("hardtanh[range]", [X(-0.5, 2), -0.5, 2.0]),
    case("leaky_relu", [X(0)]),
    case("leaky_relu[slope]", [X(0)], negative_slope=0.2),
    case("elu", [X(0)]),
    case("elu[alpha]", [X(0)], alpha=0.5),
    case("selu", [X(0)]),
    case("celu", [X(0)], alpha=2.0),
    case("gelu", [X()]),
    case("gelu[tanh]", [X()], approximate="tanh"),
    case("silu", [X(low=-6, high=6)]),
    case("mish", [X(low=-6, high=6)]),
    case("hardsigmoid", [X(-3, 3, low=-5, high=5)]),
    case("hardswish", [X(-3, 3, low=-5, high=5)]),
    case("softplus", [X(low=-6, high=6)]),
    case("softplus[beta]", [X(1.5, low=-3, high=3)], beta=2.0, threshold=3.0),
    case("softshrink", [X(-0.5, 0.5)]),
    case("softshrink[lambd]", [X(-0.3, 0.3)], lambd=0.3),
    case("hardshrink", [X(-0.5, 0.5)]),
    case("tanhshrink", [X()]),
    case("softsign", [X(0)]),
    case("logsigmoid", [X(low=-30, high=30)]),
    case("threshold", [X(0.1), 0.1, 20.0]),
    case("sigmoid", [X()]),
    case("tanh", [X()]),
    case("glu", [(3, 4)]),
    case("glu[dim0]", [(4, 3)], dim=0),
    case("prelu", [X(0, shape=(2, 3, 4)), Arg((3,), fn=_positive)]),
    case("prelu[shared]", [X(0, shape=(2, 3, 4)), Arg((1,), fn=_positive)]),
    case("prelu[2d]", [X(0, shape=(5, 3)), Arg((3,), fn=_positive)]),
    case("rrelu[eval]", [X(0)]),
    case("softmax", [(3, 4)], dim=1),
    case("softmax[dim0]", [(3, 4)], dim=0),
    case("softmax[3d]", [(2, 3, 4)], dim=-2),
    case("softmax[wide]", [Arg((3, 5), fn=_wide)], dim=-1),
    case("softmax[dtype]", [(3, 4)], dim=1, dtype=taimatsu.float64),
    case("softmax[0d]", [()], dim=0),
    case("log_softmax", [(3, 4)], dim=1),
    case("log_softmax[dim0]", [(3, 4)], dim=0),
    case("log_softmax[3d]", [(2, 3, 4)], dim=1),
    case("log_softmax[wide]", [Arg((3, 5), fn=_wide)], dim=-1),
    case("log_softmax[dtype]", [(3, 4)], dim=-1, dtype=taimatsu.float64),
    case("softmin", [(3, 4)], dim=1),
]


def check_grad_parity(case, torch, dtype, rtol=1e-5, atol=1e-6):
    """The case's input gradients match PyTorch's in `dtype` (the harness checks float64).

    Both sides back-propagate the same random output gradient.
    """
    from taimatsu.testing import assert_close
    ours = case.tensors(dtype, requires_grad=True)
    theirs = [torch.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a
              for a in case.arrays(dtype)]
    diff = [i for i, t in enumerate(ours) if isinstance(t, taimatsu.Tensor) and t.requires_grad]
    for i in diff:
        theirs[i].requires_grad_(True)
    kwargs = {k: getattr(torch, v.name) if isinstance(v, taimatsu.dtype) else v
              for k, v in case.kwargs.items()}
    spec = case.torch_op
    torch_fn = (lambda *a, **k: spec(torch, *a, **k)) if callable(spec) else _resolve(torch, spec)
    out_ours = case.run(ours)
    out_theirs = torch_fn(*theirs, **kwargs)
    seed = np.random.default_rng(3).standard_normal(tuple(out_theirs.shape))
    seed = seed.astype(out_ours.dtype.np)
    g_ours = taimatsu.autograd.grad(out_ours, [ours[i] for i in diff], taimatsu.tensor(seed))
    g_theirs = torch.autograd.grad(out_theirs, [theirs[i] for i in diff],
                                   torch.from_numpy(seed))
    for a, b in zip(g_ours, g_theirs):
        assert_close(a, b, rtol=rtol, atol=atol)


def _resolve(module, dotted):
    for part in dotted.split("."):
        module = getattr(module, part)
    return module
