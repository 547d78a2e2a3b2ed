"""nn.functional losses and the loss layers against PyTorch."""

import numpy as np
import pytest
from op_cases.nn_activation import check_grad_parity
from op_cases.nn_loss import CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, check_module_parity, generate_parity_tests

globals().update(generate_parity_tests(CASES))


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=lambda c: c.name)
def test_float32_grads_match_torch(case, torch):
    check_grad_parity(case, torch, tm.float32)


def _data(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(dtype)
    return {
        "x": x,
        "labels": rng.integers(0, 4, 6),
        "probs": rng.uniform(0.05, 0.95, (6, 4)).astype(dtype),
        "soft": (lambda z: (z / z.sum(1, keepdims=True)).astype(dtype))(rng.uniform(0.1, 1,
                                                                                     (6, 4))),
        "signs": rng.choice([-1.0, 1.0], 6).astype(dtype),
        "signs2d": rng.choice([-1.0, 1.0], (6, 4)).astype(dtype),
        "y": rng.standard_normal((6, 4)).astype(dtype),
        "z": rng.standard_normal((6, 4)).astype(dtype),
        "multilabel": np.array([[0, 2, -1, 1], [3, -1, 0, 0], [1, 2, 3, 0], [-1, 1, 1, 1],
                                [2, -1, -1, -1], [0, 1, -1, 3]]),
        "kdim": rng.standard_normal((2, 4, 3, 2)).astype(dtype),
        "kdim_labels": rng.integers(0, 4, (2, 3, 2)),
        "var": rng.uniform(0.2, 2.0, (6, 1)).astype(dtype),
        "counts": rng.uniform(0, 4, (6, 4)).astype(dtype),
        "w": np.array([0.5, 1.0, 2.0, 1.5], dtype=dtype),
    }


def _weighted(cls, dtype, **kwargs):
    """A loss layer pair built with the class weight `w` in both libraries."""
    w = _data(dtype)["w"]
    return lambda lib: getattr(lib.nn, cls)(**{k: (lib.tensor(w) if v == "w" else v)
                                               for k, v in kwargs.items()})


LAYERS = [
    ("CrossEntropyLoss", {}, ["x", "labels"]),
    ("CrossEntropyLoss", {"weight": "w", "label_smoothing": 0.2, "ignore_index": 2},
     ["x", "labels"]),
    ("CrossEntropyLoss", {"reduction": "none"}, ["kdim", "kdim_labels"]),
    ("CrossEntropyLoss", {"weight": "w"}, ["x", "soft"]),
    ("NLLLoss", {"weight": "w"}, ["x", "labels"]),
    ("NLLLoss", {"reduction": "sum"}, ["kdim", "kdim_labels"]),
    ("L1Loss", {}, ["x", "y"]), ("MSELoss", {"reduction": "sum"}, ["x", "y"]),
    ("BCELoss", {"weight": "w"}, ["probs", "soft"]),
    ("BCEWithLogitsLoss", {"pos_weight": "w"}, ["x", "soft"]),
    ("BCEWithLogitsLoss", {"weight": "w", "reduction": "none"}, ["x", "soft"]),
    ("KLDivLoss", {"reduction": "batchmean"}, ["x", "soft"]),
    ("HuberLoss", {"delta": 0.5}, ["x", "y"]), ("SmoothL1Loss", {"beta": 0.4}, ["x", "y"]),
    ("SoftMarginLoss", {}, ["x", "signs2d"]),
    ("MultiLabelSoftMarginLoss", {"weight": "w"}, ["x", "soft"]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.8, "weight": "w"}, ["x", "labels"]),
    ("MultiLabelMarginLoss", {}, ["x", "multilabel"]),
    ("HingeEmbeddingLoss", {"margin": 0.3}, ["x", "signs2d"]),
    ("MarginRankingLoss", {"margin": 0.1}, ["y", "z", "signs2d"]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, ["x", "y", "signs"]),
    ("TripletMarginLoss", {"swap": True}, ["x", "y", "z"]),
    ("TripletMarginWithDistanceLoss", {}, ["x", "y", "z"]),
    ("PoissonNLLLoss", {"full": True}, ["x", "counts"]),
    ("GaussianNLLLoss", {"full": True}, ["x", "y", "var"]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs,inputs", LAYERS,
                         ids=[f"{n}{sorted(k)}-{i[0]}" for n, k, i in LAYERS])
def test_layer_matches_torch(name, kwargs, inputs, dtype, torch):
    data = _data(dtype)
    build = _weighted(name, dtype, **kwargs)
    ours, theirs = build(tm), build(torch)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    # torch refuses a target that requires grad here; the op cases check the input gradient
    grads = name != "SoftMarginLoss"
    check_module_parity(ours, theirs, [data[k] for k in inputs], check_grads=grads, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_log_probs_gradient_matches_torch(dtype, zero_infinity, reduction, torch):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((10, 4, 6))
    lp = (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)
    targets = np.array([[1, 2, 2, 5], [3, 3, 3, 3], [4, 1, 0, 0], [2, 0, 0, 0]])
    il, tl = [10, 6, 9, 3], [4, 4, 2, 0]  # sample 1 cannot be aligned in 6 steps: inf
    ours_in = tm.tensor(lp, requires_grad=True)
    theirs_in = torch.tensor(lp, requires_grad=True)
    ours = F.ctc_loss(ours_in, tm.tensor(targets), il, tl, reduction=reduction,
                      zero_infinity=zero_infinity)
    theirs = torch.nn.functional.ctc_loss(theirs_in, torch.tensor(targets), il, tl,
                                          reduction=reduction, zero_infinity=zero_infinity)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    tol["equal_nan"] = True  # the unalignable sample's gradient is NaN in both
    assert_close(ours, theirs, **tol)
    seed = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
    (g_ours,) = tm.autograd.grad(ours, [ours_in], tm.tensor(seed))
    (g_theirs,) = torch.autograd.grad(theirs, [theirs_in], torch.from_numpy(seed))
    assert_close(g_ours, g_theirs, **tol)


def test_ctc_layer_and_concatenated_targets_match_torch(torch):
    rng = np.random.default_rng(4)
    z = rng.standard_normal((8, 3, 5)).astype(np.float32)
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    flat = np.array([1, 2, 4, 4, 3])
    ours = nn.CTCLoss(blank=0)(tm.tensor(lp), tm.tensor(flat), tm.tensor([8, 7, 5]),
                               tm.tensor([2, 2, 1]))
    theirs = torch.nn.CTCLoss(blank=0)(torch.tensor(lp), torch.tensor(flat),
                                       torch.tensor([8, 7, 5]), torch.tensor([2, 2, 1]))
    assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_cross_entropy_double_backward_matches_torch(torch):
    x = np.random.default_rng(5).standard_normal((5, 4))
    t = np.array([0, 3, 1, -100, 2])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    results = []
    for lib, fn in ((tm, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        loss = fn.cross_entropy(xt, lib.tensor(t), weight=lib.tensor(w), label_smoothing=0.1)
        (g,) = lib.autograd.grad(loss, [xt], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [xt])
        results.append(h)
    assert_close(results[0], results[1], rtol=1e-10, atol=1e-12)
