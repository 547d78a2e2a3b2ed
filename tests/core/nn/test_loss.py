"""nn.functional losses and the loss layers: generated op cases plus reductions, legacy
arguments, edge cases, an independent CTC reference and PyTorch's error messages."""

import itertools
import math

import numpy as np
import pytest
from op_cases.nn_loss import CASES

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


def _x(*shape, seed=0, requires_grad=False, dtype=tm.float64):
    values = np.random.default_rng(seed).standard_normal(shape)
    return tm.tensor(values, dtype=dtype, requires_grad=requires_grad)


LOGITS = _x(4, 3)
LABELS = tm.tensor([0, 2, 1, 2])


# -- reduction arguments -----------------------------------------------------------------

def test_invalid_reduction_is_a_value_error():
    for fn, args in [(F.cross_entropy, (LOGITS, LABELS)), (F.mse_loss, (LOGITS, LOGITS)),
                     (F.l1_loss, (LOGITS, LOGITS)), (F.nll_loss, (LOGITS, LABELS))]:
        with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
            fn(*args, reduction="foo")
    with pytest.raises(ValueError, match="foo is not valid"):
        F.gaussian_nll_loss(LOGITS, LOGITS, tm.ones(4, 3, dtype=tm.float64), reduction="foo")


@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
    (True, False, "none"), (False, True, "sum")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    if size_average is None and reduce is None:
        out = F.mse_loss(LOGITS, LOGITS * 2)
    else:
        with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, "
                          f"please use reduction='{expected}' instead."):
            out = F.mse_loss(LOGITS, LOGITS * 2, size_average=size_average, reduce=reduce)
    assert_close(out, F.mse_loss(LOGITS, LOGITS * 2, reduction=expected))
    if size_average is not None or reduce is not None:
        with pytest.warns(UserWarning):
            layer = nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
        assert layer.reduction == expected


def test_elementwise_mean_is_deprecated_mean():
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        out = F.l1_loss(LOGITS, LOGITS * 0, reduction="elementwise_mean")
    assert_close(out, LOGITS.abs().mean())


def test_target_size_mismatch_warns_and_broadcasts():
    with pytest.warns(UserWarning, match=r"Using a target size \(taimatsu.Size\(\[3\]\)\) that "
                      r"is different to the input size \(taimatsu.Size\(\[4, 3\]\)\)"):
        out = F.mse_loss(LOGITS, tm.zeros(3, dtype=tm.float64), reduction="none")
    assert_close(out, LOGITS * LOGITS)


# -- cross entropy and nll ------------------------------------------------------------------

def _reference_ce(x, t, weight=None, smoothing=0.0, ignore=-100):
    """Cross entropy from its definition with NumPy, 'mean' reduction."""
    x = np.asarray(x, dtype=np.float64)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    w = np.ones(x.shape[1]) if weight is None else np.asarray(weight)
    num = den = 0.0
    for row, c in zip(logp, t):
        if c == ignore:
            continue
        nll = -w[c] * row[c]
        smooth = -(w * row).sum() / len(row)
        num += (1 - smoothing) * nll + smoothing * smooth
        den += w[c]
    return num / den


def test_cross_entropy_matches_its_definition():
    w = [0.5, 2.0, 1.0]
    t = [0, 2, -100, 1]
    out = F.cross_entropy(LOGITS, tm.tensor(t), weight=tm.tensor(w, dtype=tm.float64),
                          label_smoothing=0.2)
    assert out.item() == pytest.approx(_reference_ce(LOGITS.numpy(), t, w, 0.2), rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    x = tm.tensor([[1e4, -1e4, 0.0], [-1e30, 1e30, 5.0]], requires_grad=True)
    out = F.cross_entropy(x, tm.tensor([1, 1]), reduction="none")
    assert_close(out, tm.tensor([2e4, 0.0]))
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_all_ignored_or_empty_batch_gives_nan_for_mean():
    t = tm.tensor([-100, -100, -100, -100])
    assert math.isnan(F.cross_entropy(LOGITS, t).item())
    assert math.isnan(F.nll_loss(LOGITS, t).item())
    assert F.cross_entropy(LOGITS, t, reduction="sum").item() == 0.0
    empty = tm.zeros(0, 3)
    assert math.isnan(F.cross_entropy(empty, tm.zeros(0, dtype=tm.int64)).item())
    x = _x(4, 3, requires_grad=True)
    F.cross_entropy(x, t, reduction="sum").backward()
    assert not x.grad.numpy().any()


def test_ignored_targets_get_no_gradient():
    x = _x(4, 3, requires_grad=True)
    F.cross_entropy(x, tm.tensor([1, 7, 0, 7]), ignore_index=7, label_smoothing=0.1).backward()
    assert not x.grad.numpy()[[1, 3]].any()
    assert x.grad.numpy()[[0, 2]].any()


def test_cross_entropy_accepts_uint8_targets_and_kdim_inputs():
    x = _x(2, 3, 4, 5)
    t = tm.tensor(np.random.default_rng(1).integers(0, 3, (2, 4, 5)))
    flat = x.permute(0, 2, 3, 1).reshape(-1, 3)
    assert_close(F.cross_entropy(x, t), F.cross_entropy(flat, t.reshape(-1)))
    assert_close(F.cross_entropy(x, t, reduction="none"),
                 F.cross_entropy(flat, t.reshape(-1), reduction="none").reshape(2, 4, 5))
    assert_close(F.cross_entropy(LOGITS, LABELS.to(tm.uint8)), F.cross_entropy(LOGITS, LABELS))


def test_cross_entropy_with_probabilities_equals_indices_for_one_hot():
    onehot = tm.tensor(np.eye(3)[LABELS.numpy()], dtype=tm.float64)
    assert_close(F.cross_entropy(LOGITS, onehot), F.cross_entropy(LOGITS, LABELS))
    assert_close(F.cross_entropy(LOGITS, onehot, label_smoothing=0.3),
                 F.cross_entropy(LOGITS, LABELS, label_smoothing=0.3))


def test_nll_loss_is_cross_entropy_after_log_softmax():
    w = tm.tensor([1.0, 0.2, 3.0], dtype=tm.float64)
    assert_close(F.nll_loss(F.log_softmax(LOGITS, 1), LABELS, weight=w),
                 F.cross_entropy(LOGITS, LABELS, weight=w))


def test_unbatched_class_index_inputs():
    x = _x(5)
    out = F.cross_entropy(x, tm.tensor(3), reduction="none")
    assert out.shape == ()
    assert_close(out, F.cross_entropy(x.unsqueeze(0), tm.tensor([3])))
    assert F.nll_loss(x, tm.tensor(1), reduction="none").item() == -x[1].item()


def test_cross_entropy_double_backward_matches_the_composite():
    x = _x(3, 4, requires_grad=True)
    t = tm.tensor([1, 0, 3])
    w = tm.tensor([1.0, 2.0, 0.5, 1.5], dtype=tm.float64)
    grads = []
    for loss in (F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
                 F.nll_loss(F.log_softmax(x, 1), t, weight=w) * 0.9 + 0.1 * (
                     -(F.log_softmax(x, 1) * w).sum(1) / 4).sum() / w[t].sum()):
        (g,) = tm.autograd.grad(loss, [x], create_graph=True)
        (h,) = tm.autograd.grad((g ** 2).sum(), [x])
        grads.append((g, h))
    assert_close(grads[0][0], grads[1][0])
    assert_close(grads[0][1], grads[1][1])


def test_class_target_errors_match_pytorch():
    cases = [
        (IndexError, "Target 5 is out of bounds.", (LOGITS, tm.tensor([1, 5, 0, 0]))),
        (IndexError, "Target -1 is out of bounds.", (LOGITS, tm.tensor([1, -1, 0, 0]))),
        (RuntimeError, "expected target dtype to be Long or Byte, but got Float",
         (LOGITS, tm.tensor([1.0, 2.0, 0.0, 0.0]))),
        (RuntimeError, "expected target dtype to be Long or Byte, but got Int",
         (LOGITS, tm.tensor([1, 2, 0, 0], dtype=tm.int32))),
        (ValueError, r"Expected input batch_size \(4\) to match target batch_size \(3\).",
         (LOGITS, tm.tensor([1, 2, 0]))),
        (RuntimeError, "0D or 1D target tensor expected, multi-target not supported",
         (LOGITS, tm.tensor([[1], [2], [0], [0]]))),
        (RuntimeError, r"Expected target size \[2, 4\], got \[2, 5\]",
         (_x(2, 3, 4), tm.zeros(2, 5, dtype=tm.int64))),
        (RuntimeError, r"size mismatch \(got input: \[2, 3, 4, 5\] , target: \[2, 4, 6\]",
         (_x(2, 3, 4, 5), tm.zeros(2, 4, 6, dtype=tm.int64))),
    ]
    for fn in (F.cross_entropy, F.nll_loss):
        for exc, message, args in cases:
            with pytest.raises(exc, match=message):
                fn(*args)
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 3 "
                       r"classes or no classes but got weight tensor of shape: \[2\]"):
        F.cross_entropy(LOGITS, LABELS, weight=tm.ones(2, dtype=tm.float64))
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.nll_loss(LOGITS, LABELS, weight=tm.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. "
                       "Got: 1.5"):
        F.cross_entropy(LOGITS, LABELS, label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="Expected floating point type for target with "
                       "class probabilities, got Long"):
        F.cross_entropy(LOGITS, tm.ones(4, 3, dtype=tm.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point "
                       "target"):
        F.cross_entropy(LOGITS, LOGITS.softmax(1), ignore_index=1)
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        F.nll_loss(tm.tensor(1.0), tm.tensor(0))
    with pytest.raises(NotImplementedError, match="\"nll_loss_out_frame\" not implemented for "
                       "'Long'"):
        F.nll_loss(tm.ones(2, 3, dtype=tm.int64), tm.tensor([0, 1]))


# -- other losses ---------------------------------------------------------------------------

def test_bce_with_logits_is_stable_and_equals_sigmoid_bce():
    x = tm.tensor([-200.0, -20.0, 0.0, 30.0, 200.0], dtype=tm.float64, requires_grad=True)
    t = tm.tensor([1.0, 0.0, 0.5, 1.0, 0.0], dtype=tm.float64)
    out = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert_close(out, tm.tensor([200.0, 2.061153622e-09, math.log(2), 9.357622969e-14,
                                 200.0], dtype=tm.float64))
    out.sum().backward()
    assert_close(x.grad, tm.sigmoid(x.detach()) - t)
    mid = x.detach()[1:4]
    assert_close(F.binary_cross_entropy_with_logits(mid, t[1:4]),
                 F.binary_cross_entropy(tm.sigmoid(mid), t[1:4]))


def test_bce_pos_weight_scales_the_positive_term():
    x, t = _x(3, 2), tm.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], dtype=tm.float64)
    pw = tm.tensor([3.0, 0.5], dtype=tm.float64)
    expected = -(pw * t * F.logsigmoid(x) + (1 - t) * F.logsigmoid(-x))
    assert_close(F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none"),
                 expected)


def test_bce_clamps_log_at_minus_100():
    out = F.binary_cross_entropy(tm.tensor([0.0, 1.0]), tm.tensor([1.0, 0.0]), reduction="none")
    assert out.tolist() == [100.0, 100.0]


def test_binary_loss_errors():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tm.tensor([1.5]), tm.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Using a target size \(taimatsu.Size\(\[3, 1\]\)\) "
                       r"that is different to the input size \(taimatsu.Size\(\[3\]\)\) is "
                       "deprecated. Please ensure they have the same size."):
        F.binary_cross_entropy(tm.rand(3), tm.rand(3, 1))
    with pytest.raises(ValueError, match=r"Target size \(taimatsu.Size\(\[3, 1\]\)\) must be the "
                       r"same as input size \(taimatsu.Size\(\[3\]\)\)"):
        F.binary_cross_entropy_with_logits(tm.rand(3), tm.rand(3, 1))


def test_kl_div_reductions():
    logq = F.log_softmax(_x(4, 5), 1)
    p = F.softmax(_x(4, 5, seed=1), 1)
    pointwise = p * (p.log() - logq)
    assert_close(F.kl_div(logq, p, reduction="batchmean"), pointwise.sum() / 4)
    assert_close(F.kl_div(logq, p.log(), reduction="none", log_target=True), pointwise)
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both "
                      "the batch size and the support size."):
        assert_close(F.kl_div(logq, p), pointwise.mean())
    zero = F.kl_div(logq, tm.zeros(4, 5, dtype=tm.float64), reduction="sum")
    assert zero.item() == 0.0  # 0 log 0 is taken as 0


def test_regression_loss_formulas():
    d = tm.tensor([-3.0, -0.5, 0.2, 2.0], dtype=tm.float64)
    zero = tm.zeros(4, dtype=tm.float64)
    assert_close(F.huber_loss(d, zero, reduction="none", delta=1.0),
                 tm.tensor([2.5, 0.125, 0.02, 1.5], dtype=tm.float64))
    assert_close(F.smooth_l1_loss(d, zero, reduction="none", beta=0.5),
                 tm.tensor([2.75, 0.25, 0.04, 1.75], dtype=tm.float64))
    assert_close(F.smooth_l1_loss(d, zero, beta=0.0), d.abs().mean())
    w = tm.tensor([1.0, 2.0, 0.0, 1.0], dtype=tm.float64)
    assert_close(F.l1_loss(d, zero, weight=w), (d.abs() * w).sum() / w.sum())
    assert_close(F.mse_loss(d, zero, weight=w, reduction="sum"), (d * d * w).sum())
    assert_close(F.huber_loss(d, zero, weight=w), (F.huber_loss(d, zero, reduction="none")
                                                   * w).mean())


def test_regression_loss_errors():
    a = tm.rand(3)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values "
                       "for beta."):
        F.smooth_l1_loss(a, a, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values "
                       "for delta."):
        F.huber_loss(a, a, delta=0.0)
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(a, a, weight=tm.ones(2))
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        F.mse_loss(tm.tensor([1, 2]), tm.tensor([1, 3]))
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        F.l1_loss(tm.tensor([1, 2]), tm.tensor([1, 3]))


def test_margin_loss_formulas():
    x = tm.tensor([[0.1, 0.8, -0.3]], dtype=tm.float64)
    y = tm.tensor([1])
    # sum over j != y of max(0, 1 - x_y + x_j) / C
    expected = (max(0, 1 - 0.8 + 0.1) + max(0, 1 - 0.8 - 0.3)) / 3
    assert F.multi_margin_loss(x, y).item() == pytest.approx(expected)
    expected2 = (max(0, 0.5 - 0.8 + 0.1) ** 2 + max(0, 0.5 - 0.8 - 0.3) ** 2) / 3 * 2.0
    w = tm.tensor([1.0, 2.0, 3.0], dtype=tm.float64)
    assert F.multi_margin_loss(x, y, p=2, margin=0.5, weight=w).item() == pytest.approx(expected2)
    # targets {0, 2} (then -1): pairs (j, k) with j listed and k not listed: k = 1
    t = tm.tensor([[2, 0, -1]])
    expected3 = (max(0, 1 - (0.1 - 0.8)) + max(0, 1 - (-0.3 - 0.8))) / 3
    assert F.multilabel_margin_loss(x, t).item() == pytest.approx(expected3)
    t_dup = tm.tensor([[2, 2, -1]])  # a repeated label counts twice, as in PyTorch
    assert F.multilabel_margin_loss(x, t_dup).item() == pytest.approx(
        2 * (max(0, 1 + 0.3 + 0.1) + max(0, 1 + 0.3 + 0.8)) / 3)


def test_embedding_loss_formulas():
    x1 = tm.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=tm.float64)
    x2 = tm.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=tm.float64)
    out = F.cosine_embedding_loss(x1, x2, tm.tensor([1.0, -1.0]), margin=0.5, reduction="none")
    assert_close(out, tm.tensor([1.0, 0.5], dtype=tm.float64))
    h = F.hinge_embedding_loss(tm.tensor([0.3, 2.0, 0.3]), tm.tensor([1.0, -1.0, -1.0]),
                               reduction="none")
    assert_close(h, tm.tensor([0.3, 0.0, 0.7]))
    r = F.margin_ranking_loss(tm.tensor([1.0, 2.0]), tm.tensor([2.0, 1.0]), tm.tensor([1.0, 1.0]),
                              margin=0.5, reduction="none")
    assert_close(r, tm.tensor([1.5, 0.0]))


def test_triplet_losses():
    a, p, n = _x(4, 3), _x(4, 3, seed=1), _x(4, 3, seed=2)
    d = lambda u, v: ((u - v + 1e-6) ** 2).sum(-1).sqrt()  # noqa: E731
    expected = (1.0 + d(a, p) - d(a, n)).clamp_min(0).mean()
    assert_close(F.triplet_margin_loss(a, p, n), expected)
    assert_close(F.triplet_margin_with_distance_loss(a, p, n), expected)
    swapped = (1.0 + d(a, p) - tm.minimum(d(a, n), d(p, n))).clamp_min(0).sum()
    assert_close(F.triplet_margin_loss(a, p, n, swap=True, reduction="sum"), swapped)
    layer = nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: (u - v).abs().sum(-1))
    assert_close(layer(a, p, n), ((a - p).abs().sum(-1) - (a - n).abs().sum(-1) + 1)
                 .clamp_min(0).mean())


def test_margin_and_embedding_errors():
    x = _x(3, 4)
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, tm.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, tm.tensor([0, 4, 2]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.multi_margin_loss(x, tm.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="weight must be one-dimensional"):
        F.multi_margin_loss(x, tm.tensor([0, 1, 2]), weight=tm.ones(1, 4, dtype=tm.float64))
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        F.multilabel_margin_loss(x, tm.tensor([[1, 5, 0, -1]] * 3))
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[3, 3\] for input of "
                       r"size: \[3, 4\]"):
        F.multilabel_margin_loss(x, tm.tensor([[1, 2, -1]] * 3))
    with pytest.raises(RuntimeError, match="margin_ranking_loss : All input tensors should have "
                       "same dimension"):
        F.margin_ranking_loss(tm.rand(3), tm.rand(3), tm.rand(3, 1))
    with pytest.raises(RuntimeError, match=r"1D target tensor expects 2D input tensors, but "
                       r"found inputs with sizes \[3, 2, 2\] and \[3, 2, 2\]."):
        F.cosine_embedding_loss(tm.rand(3, 2, 2), tm.rand(3, 2, 2), tm.rand(3))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not "
                       "supported"):
        F.cosine_embedding_loss(tm.rand(3, 2), tm.rand(3, 2), tm.rand(3, 1))
    with pytest.raises(RuntimeError, match="The anchor, positive, and negative tensors are "
                       "expected to have the same number of dimensions, but got: anchor 2D, "
                       "positive 1D, and negative 2D inputs"):
        F.triplet_margin_loss(tm.rand(3, 2), tm.rand(2), tm.rand(3, 2))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(tm.rand(3, 2), tm.rand(3, 2), tm.rand(3, 2),
                                            margin=0)


def test_likelihood_losses():
    x, t = _x(3, 2), tm.tensor([[0.0, 1.0], [2.0, 5.0], [1.0, 0.5]], dtype=tm.float64)
    assert_close(F.poisson_nll_loss(x, t, reduction="none"), x.exp() - t * x)
    stirling = tm.xlogy(t, t) - t + 0.5 * (2 * math.pi * t).log()
    full = F.poisson_nll_loss(x, t, full=True, reduction="none")
    assert_close(full, x.exp() - t * x + tm.where(t > 1, stirling, 0.0))
    var = tm.tensor([[0.5], [1.0], [2.0]], dtype=tm.float64, requires_grad=True)
    out = F.gaussian_nll_loss(x, t, var, full=True, reduction="sum")
    expected = 0.5 * ((var.log() + (x - t) ** 2 / var).sum() + 6 * math.log(2 * math.pi))
    assert_close(out, expected)
    assert_close(F.gaussian_nll_loss(x, t, 2.0), F.gaussian_nll_loss(x, t, tm.full((3, 2), 2.0,
                                                                                  dtype=tm.float64)))
    # var below eps is clamped in value, but its gradient still flows
    tiny = tm.tensor([[1e-9], [1.0], [1.0]], dtype=tm.float64, requires_grad=True)
    F.gaussian_nll_loss(x, t, tiny).backward()
    assert tiny.grad.numpy()[0, 0] != 0
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(x, t, tm.full((3, 2), -1.0, dtype=tm.float64))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, t, tm.ones(2, 2, dtype=tm.float64))


# -- CTC ------------------------------------------------------------------------------------

def _ctc_brute_force(log_probs, target, blank):
    """-log of the total probability of every alignment that collapses to `target`."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


def test_ctc_matches_brute_force_enumeration():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((5, 3, 3))
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    targets = [[1, 1], [2, 1], [1]]
    lengths = [5, 4, 3]
    out = F.ctc_loss(tm.tensor(lp), tm.tensor([1, 1, 2, 1, 1]), lengths, [2, 2, 1],
                     reduction="none")
    expected = [_ctc_brute_force(lp[:n, b], targets[b], 0) for b, n in enumerate(lengths)]
    assert_close(out, tm.tensor(expected, dtype=tm.float64), rtol=1e-12, atol=1e-12)
    blank_last = F.ctc_loss(tm.tensor(lp), tm.tensor([[0, 0], [1, 0], [0, 0]]), lengths,
                            [2, 2, 1], blank=2, reduction="none")
    expected = [_ctc_brute_force(lp[:n, b], t, 2) for b, (n, t) in
                enumerate(zip(lengths, [[0, 0], [1, 0], [0]]))]
    assert_close(blank_last, tm.tensor(expected, dtype=tm.float64), rtol=1e-12, atol=1e-12)


def test_ctc_reductions_and_unbatched_input():
    lp = F.log_softmax(_x(6, 2, 4), 2)
    targets, il, tl = tm.tensor([[1, 2, 3], [3, 3, 0]]), tm.tensor([6, 5]), tm.tensor([3, 2])
    per = F.ctc_loss(lp, targets, il, tl, reduction="none")
    assert_close(F.ctc_loss(lp, targets, il, tl), (per / tl.double()).mean())
    assert_close(F.ctc_loss(lp, targets, il, tl, reduction="sum"), per.sum())
    one = F.ctc_loss(lp[:, 0], targets[0], tm.tensor(6), tm.tensor(3), reduction="none")
    assert one.shape == () and one.item() == pytest.approx(per[0].item())
    empty_target = F.ctc_loss(lp, targets, [6, 6], [0, 0], reduction="none")
    assert_close(empty_target, -lp[:, :, 0].sum(0))  # all blanks


def test_ctc_zero_infinity():
    lp = F.log_softmax(_x(3, 1, 4), 2).detach().requires_grad_(True)
    targets = tm.tensor([[1, 1, 1]])  # needs 5 steps, only 3 given
    out = F.ctc_loss(lp, targets, [3], [3], reduction="none")
    assert math.isinf(out.item())
    out = F.ctc_loss(lp, targets, [3], [3], reduction="sum", zero_infinity=True)
    assert out.item() == 0.0
    out.backward()
    assert not lp.grad.numpy().any()


def test_ctc_errors():
    lp = F.log_softmax(_x(5, 2, 4), 2)
    targets = tm.tensor([[1, 2], [1, 1]])
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 5, "
                       "but got value 6"):
        F.ctc_loss(lp, targets, [6, 5], [2, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 3 at "
                       "dimension 1, but got size 2 for argument #2 'targets'"):
        F.ctc_loss(lp, targets, [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, targets, [5], [2, 2])
    with pytest.raises(RuntimeError, match="target_lengths must be of size batch_size"):
        F.ctc_loss(lp, targets, [5, 5], [2])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, targets, [5, 5], [2, 2], blank=4)
    with pytest.raises(RuntimeError, match="input_lengths must be integral"):
        F.ctc_loss(lp, targets, tm.tensor([5.0, 5.0]), [2, 2])
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at least 0"):
        F.ctc_loss(lp, targets, [5, -1], [2, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size 3 at dimension 0"):
        F.ctc_loss(lp, tm.tensor([1, 2]), [5, 5], [2, 1])
    with pytest.raises(RuntimeError, match="Expected 3-dimensional tensor, but got "
                       "4-dimensional tensor for argument #1 'log_probs'"):
        F.ctc_loss(lp.unsqueeze(0), targets, [5, 5], [2, 2])


# -- layers -----------------------------------------------------------------------------------

def test_weighted_losses_register_their_weights_as_buffers():
    w = tm.tensor([1.0, 2.0, 3.0])
    layer = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert list(layer.state_dict()) == ["weight"]
    assert [n for n, _ in layer.named_buffers()] == ["weight"]
    assert list(layer.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    assert list(nn.BCEWithLogitsLoss(weight=w, pos_weight=w).state_dict()) == ["weight",
                                                                               "pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
    assert layer.double().weight.dtype is tm.float64


def test_loss_layers_call_their_functional_forms():
    x, t = _x(4, 3), LABELS
    p = tm.sigmoid(x)
    pairs = [
        (nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.2)(x, t),
         F.cross_entropy(x, t, ignore_index=1, label_smoothing=0.2)),
        (nn.NLLLoss(reduction="sum")(x, t), F.nll_loss(x, t, reduction="sum")),
        (nn.L1Loss()(x, p), F.l1_loss(x, p)), (nn.MSELoss(reduction="none")(x, p),
                                               F.mse_loss(x, p, reduction="none")),
        (nn.BCELoss()(p, p.detach()), F.binary_cross_entropy(p, p)),
        (nn.BCEWithLogitsLoss()(x, p), F.binary_cross_entropy_with_logits(x, p)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True)(x, x),
         F.kl_div(x, x, reduction="batchmean", log_target=True)),
        (nn.HuberLoss(delta=0.5)(x, p), F.huber_loss(x, p, delta=0.5)),
        (nn.SmoothL1Loss(beta=0.3)(x, p), F.smooth_l1_loss(x, p, beta=0.3)),
        (nn.SoftMarginLoss()(x, p), F.soft_margin_loss(x, p)),
        (nn.MultiLabelSoftMarginLoss()(x, p), F.multilabel_soft_margin_loss(x, p)),
        (nn.MultiMarginLoss(p=2)(x, t), F.multi_margin_loss(x, t, p=2)),
        (nn.MultiLabelMarginLoss()(x, tm.tensor([[0, -1, 1]] * 4)),
         F.multilabel_margin_loss(x, tm.tensor([[0, -1, 1]] * 4))),
        (nn.HingeEmbeddingLoss(0.5)(x, p), F.hinge_embedding_loss(x, p, 0.5)),
        (nn.MarginRankingLoss(0.2)(x, p, p), F.margin_ranking_loss(x, p, p, 0.2)),
        (nn.CosineEmbeddingLoss(0.1)(x, p, tm.tensor([1.0, -1, 1, -1])),
         F.cosine_embedding_loss(x, p, tm.tensor([1.0, -1, 1, -1]), 0.1)),
        (nn.TripletMarginLoss(p=1)(x, p, -x), F.triplet_margin_loss(x, p, -x, p=1)),
        (nn.PoissonNLLLoss(log_input=False)(p, x.abs()),
         F.poisson_nll_loss(p, x.abs(), log_input=False)),
        (nn.GaussianNLLLoss(full=True)(x, p, p), F.gaussian_nll_loss(x, p, p, full=True)),
    ]
    for ours, expected in pairs:
        assert_close(ours, expected)
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        layer = nn.NLLLoss2d()
    assert isinstance(layer, nn.NLLLoss)


def test_loss_layer_argument_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: expected weight to be None or 1D "
                       "tensor, got 2D instead"):
        nn.MultiMarginLoss(weight=tm.ones(2, 2))
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater "
                       "than 0, got 0 instead"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.CTCLoss(blank=3)) == "CTCLoss()"
