"""Op-test descriptions for nn.functional normalization, embedding and distance ops.

NORM_CASES, EMBEDDING_CASES and DISTANCE_CASES feed the core and parity test files of each
family. Running statistics are inputs that do not require grad (batch_norm updates them
in place; every call gets fresh copies). Inputs of the norm-based distances keep away from
zero differences, where the p-norms have kinks.
"""

import numpy as np

import taimatsu
from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase


def positive(rng, shape, dtype):
    return rng.uniform(0.5, 2.0, shape).astype(dtype)


def shifted(rng, shape, dtype):
    """Off-centre values with unequal spread, so normalization has work to do."""
    return (rng.standard_normal(shape) * 2.0 + 0.7).astype(dtype)


def away_from_each_other(rng, shape, dtype):
    """Rows on a coarse grid plus jitter: no two share a coordinate (no |a - b| kinks)."""
    n = int(np.prod(shape))
    values = (rng.permutation(n) + rng.uniform(0.2, 0.8, n)) / n * 4 - 2
    return values.reshape(shape).astype(dtype)


def one_hot_reference(a, num_classes=-1):
    n = int(a.max()) + 1 if num_classes == -1 else num_classes
    return np.eye(n, dtype=np.int64)[a]


def X(*shape, fn=shifted):
    return Arg(shape, fn=fn)


def stats(c, fn=None):
    """A running-statistics input of c channels (a constant to autograd)."""
    return Arg((c,), fn=fn, requires_grad=False)


def idx(*shape, high=10):
    return Arg(shape, dtype=taimatsu.int64, low=0, high=high)


def case(name, inputs, op=None, torch_name=None, **kwargs):
    base = name.split("[")[0]
    opts = {k: kwargs.pop(k) for k in ("grad", "gradgrad", "numpy_op", "noncontiguous")
            if k in kwargs}
    return OpCase(name, op=op or getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=torch_name or f"nn.functional.{base}", **opts)


NORM_CASES = [
    case("batch_norm[train]", [X(4, 3, 5), stats(3), stats(3, positive), (3,), (3,)],
         training=True),
    case("batch_norm[train-2d]", [X(6, 3), stats(3), stats(3, positive), (3,), (3,)],
         training=True, momentum=0.3),
    case("batch_norm[train-4d]", [X(2, 3, 3, 2), None, None, (3,), (3,)], training=True),
    case("batch_norm[train-no-affine]", [X(5, 2, 3), None, None], training=True),
    case("batch_norm[eval]", [X(4, 3, 2), stats(3), stats(3, positive), (3,), (3,)]),
    case("batch_norm[eval-no-affine]", [X(4, 3), stats(3), stats(3, positive)], eps=1e-3),
    case("instance_norm", [X(2, 3, 5)]),
    case("instance_norm[affine]", [X(2, 3, 2, 3), None, None, (3,), (3,)]),
    case("instance_norm[running]", [X(2, 3, 4), stats(3), stats(3, positive), (3,), (3,)],
         use_input_stats=False),
    case("layer_norm", [X(4, 5), [5], (5,), (5,)]),
    case("layer_norm[2-dims]", [X(2, 3, 4), [3, 4], (3, 4), (3, 4)], eps=1e-3),
    case("layer_norm[no-affine]", [X(3, 2, 6), [6]]),
    case("layer_norm[weight-only]", [X(3, 6), [6], (6,)]),
    case("group_norm", [X(2, 6, 4), 3, (6,), (6,)]),
    case("group_norm[no-affine]", [X(2, 4, 3, 3), 2]),
    case("group_norm[one-group]", [X(3, 4), 1, (4,), (4,)]),
    case("rms_norm", [X(3, 5), [5], (5,)]),
    case("rms_norm[eps]", [X(2, 3, 4), [3, 4]], eps=1e-3),
    case("local_response_norm", [X(2, 5, 4), 3]),
    case("local_response_norm[4d-even]", [X(2, 5, 3, 3), 2], alpha=0.1, beta=0.5, k=2.0),
    case("normalize", [(3, 4)]),
    case("normalize[p1-dim0]", [(3, 4)], p=1.0, dim=0),
]

_OFFSETS = taimatsu.tensor([0, 2, 2, 5])  # bags [0, 2), [2, 2) (empty), [2, 5), [5, 8)

EMBEDDING_CASES = [
    case("embedding", [idx(3, 4), (10, 5)]),
    # the padding row is read but gets no gradient: finite differences disagree by design
    case("embedding[padding]", [idx(2, 6), (10, 3)], padding_idx=2, grad=False),
    # a deliberately scaled gradient (not the derivative): checked against torch's instead
    case("embedding[freq]", [idx(12, high=4), (4, 3)], scale_grad_by_freq=True, grad=False),
    case("embedding[scalar-index]", [Arg((), dtype=taimatsu.int64, low=0, high=4), (4, 3)]),
    case("embedding_bag", [idx(4, 3), (10, 5)]),
    case("embedding_bag[sum]", [idx(4, 3), (10, 5)], mode="sum"),
    case("embedding_bag[max]", [idx(4, 3), (10, 5)], mode="max"),
    case("embedding_bag[offsets]", [idx(8), (10, 4), _OFFSETS], mode="mean"),
    case("embedding_bag[offsets-max]", [idx(8), (10, 4), _OFFSETS], mode="max"),
    case("embedding_bag[weights]", [idx(8), (10, 4), _OFFSETS, None, 2.0, False, "sum", False,
                                    (8,)]),
    case("embedding_bag[padding]", [idx(4, 5, high=4), (4, 3)], mode="sum", padding_idx=1),
    case("embedding_bag[last-offset]", [idx(8), (10, 4), taimatsu.tensor([0, 3, 8])],
         include_last_offset=True),
    case("one_hot", [idx(5, high=4)], grad=False, numpy_op=one_hot_reference),
    case("one_hot[classes]", [idx(2, 3, high=4)], num_classes=6, grad=False,
         numpy_op=one_hot_reference),
]

APART = Arg((5, 3), fn=away_from_each_other)

DISTANCE_CASES = [
    case("cosine_similarity", [(4, 5), (4, 5)]),
    case("cosine_similarity[broadcast]", [(3, 1, 5), (4, 5)], dim=-1),
    case("cosine_similarity[dim0]", [(6,), (6,)], dim=0, eps=1e-6),
    case("pairwise_distance", [(4, 5), (4, 5)]),
    case("pairwise_distance[p1-keepdim]", [(4, 5), (5,)], p=1.0, keepdim=True),
    case("pairwise_distance[inf]", [(4, 5), (4, 5)], p=float("inf")),
    case("pdist", [APART]),
    case("pdist[p1]", [APART], p=1.0),
    case("pdist[p3]", [APART], p=3.0),
    case("pdist[inf]", [APART], p=float("inf")),
    case("cdist", [(5, 3), (4, 3)], torch_name="cdist"),
    case("cdist[mm]", [(5, 3), (4, 3)], torch_name="cdist",
         compute_mode="use_mm_for_euclid_dist"),
    case("cdist[batch-broadcast]", [(2, 1, 4, 3), (3, 5, 3)], torch_name="cdist"),
    case("cdist[p1]", [Arg((4, 3), fn=away_from_each_other), Arg((3, 3), fn=shifted)],
         torch_name="cdist", p=1.0),
    case("cdist[p-half]", [Arg((4, 3), fn=away_from_each_other), Arg((3, 3), fn=shifted)],
         torch_name="cdist", p=0.5),
    case("cdist[inf]", [(4, 3), (3, 3)], torch_name="cdist", p=float("inf")),
]

CASES = NORM_CASES + EMBEDDING_CASES + DISTANCE_CASES


def _torch_value(torch, v):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v.copy())
    if isinstance(v, taimatsu.Tensor):
        return torch.from_numpy(v.numpy().copy())
    return v


def check_grad_parity(case, torch, dtype, rtol=1e-5, atol=1e-6):
    """The case's input gradients match PyTorch's in `dtype` (the harness checks float64),
    for the same random output gradient on both sides."""
    from taimatsu.testing import assert_close
    ours = case.tensors(dtype, requires_grad=True)
    theirs = [_torch_value(torch, a) for a in case.arrays(dtype)]
    diff = [i for i, t in enumerate(ours) if isinstance(t, taimatsu.Tensor) and t.requires_grad]
    for i in diff:
        theirs[i].requires_grad_(True)
    spec = case.torch_op
    torch_fn = torch
    for part in spec.split("."):
        torch_fn = getattr(torch_fn, part)
    out_ours = case.run(ours)
    out_theirs = torch_fn(*theirs, **case.kwargs)
    seed = np.random.default_rng(3).standard_normal(tuple(out_theirs.shape))
    seed = seed.astype(out_ours.dtype.np)
    g_ours = taimatsu.autograd.grad(out_ours, [ours[i] for i in diff], taimatsu.tensor(seed))
    g_theirs = torch.autograd.grad(out_theirs, [theirs[i] for i in diff],
                                   torch.from_numpy(seed))
    for a, b in zip(g_ours, g_theirs):
        assert_close(a, b, rtol=rtol, atol=atol)
