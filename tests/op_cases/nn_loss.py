"""Op-test descriptions for nn.functional losses (shared by core and parity tests).

Class weights, pos_weight and the like are positional inputs here (through small lambdas)
so that they take each case's float dtype; they do not require grad.
"""

import numpy as np

import taimatsu
from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase

LONG = taimatsu.int64
N, C = 5, 4


def _between(low, high):
    def make(rng, shape, dtype):
        return rng.uniform(low, high, shape).astype(dtype)
    return make


def _signs(rng, shape, dtype):
    return rng.choice(np.array([-1.0, 1.0]), shape).astype(dtype)


def _classes(k, ignore=None):
    """Class indices in [0, k); with `ignore`, every third entry is that index."""
    def make(rng, shape, dtype):
        t = rng.integers(0, k, shape)
        if ignore is not None:
            t.reshape(-1)[::3] = ignore
        return t.astype(np.int64)
    return make


def _log_probs(rng, shape, dtype):
    """log_softmax over the last dim of random logits."""
    z = rng.standard_normal(shape)
    return (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)


def _probs(rng, shape, dtype):
    """Rows (over dim 1) of probabilities summing to 1."""
    z = rng.uniform(0.1, 1.0, shape)
    return (z / z.sum(1, keepdims=True)).astype(dtype)


def _multilabel(rng, shape, dtype):
    """Rows of distinct class indices followed by -1 padding (and junk after it)."""
    n, k = shape
    out = np.full(shape, -1, dtype=np.int64)
    for i in range(n):
        m = rng.integers(0, k)
        out[i, :m] = rng.permutation(k)[:m]
        if m + 1 < k:
            out[i, m + 1:] = rng.integers(0, k, k - m - 1)
    return out


def T(shape, k=C, ignore=None):
    return Arg(shape, dtype=LONG, fn=_classes(k, ignore))


W = Arg((C,), fn=_between(0.5, 2.0), requires_grad=False)
PROB = Arg((N, C), fn=_between(0.05, 0.95))
SIGNS = Arg((N,), fn=_signs, requires_grad=False)


def case(name, inputs, op=None, torch_op=None, opts=None, **kwargs):
    """A case for F.<name> (the part of `name` before "["); opts go to OpCase itself."""
    base = name.split("[")[0]
    return OpCase(name, op=op or getattr(F, base), inputs=inputs, kwargs=kwargs,
                  torch_op=torch_op or f"nn.functional.{base}", **(opts or {}))


def weighted(name, inputs, arg="weight", **kwargs):
    """A case whose last input is passed as the keyword `arg`."""
    base = name.split("[")[0]

    def ours(*a, **k):
        return getattr(F, base)(*a[:-1], **{arg: a[-1]}, **k)

    def theirs(torch, *a, **k):
        return getattr(torch.nn.functional, base)(*a[:-1], **{arg: a[-1]}, **k)
    return OpCase(name, op=ours, torch_op=theirs, inputs=inputs, kwargs=kwargs)


def reductions(name, inputs, **kwargs):
    return [case(f"{name}[{r}]", inputs, reduction=r, **kwargs) for r in ("mean", "sum", "none")]


def _ctc_args(blank=0):
    targets = Arg((3, 4), dtype=LONG, fn=lambda rng, s, d: rng.integers(1, 5, s))
    return [Arg((12, 3, 5), fn=_log_probs), targets, [12, 10, 7], [4, 2, 0]]


def _ctc_through_log_softmax(logits, targets, il, tl, **kw):
    return F.ctc_loss(F.log_softmax(logits, 2), targets, il, tl, **kw)


def _torch_ctc_through_log_softmax(torch, logits, targets, il, tl, **kw):
    return torch.nn.functional.ctc_loss(logits.log_softmax(2), targets, il, tl, **kw)


CASES = [
    *reductions("l1_loss", [(N, C), (N, C)]),
    weighted("l1_loss[weight]", [(N, C), (N, C), Arg((N, C), fn=_between(0.5, 2),
                                                       requires_grad=False)]),
    *reductions("mse_loss", [(N, C), (N, C)]),
    weighted("mse_loss[weight]", [(N, C), (N, C), Arg((N, C), fn=_between(0.5, 2),
                                                        requires_grad=False)]),
    *reductions("huber_loss", [(N, C), Arg((N, C), low=-2, high=2)], delta=0.5),
    weighted("huber_loss[weight]", [(N, C), (N, C), Arg((N, C), fn=_between(0.5, 2),
                                                          requires_grad=False)], delta=0.7),
    *reductions("smooth_l1_loss", [(N, C), Arg((N, C), low=-2, high=2)], beta=0.5),
    case("smooth_l1_loss[beta0]", [(N, C), (N, C)], beta=0.0),
    # cross entropy with class indices: the fused path
    *reductions("cross_entropy", [(N, C), T((N,))]),
    weighted("cross_entropy[weight]", [(N, C), T((N,)), W]),
    weighted("cross_entropy[weight_none]", [(N, C), T((N,)), W], reduction="none"),
    case("cross_entropy[ignore]", [(N, C), T((N,), ignore=-100)]),
    case("cross_entropy[ignore_index]", [(N, C), T((N,), ignore=2)], ignore_index=2),
    case("cross_entropy[smoothing]", [(N, C), T((N,))], label_smoothing=0.2),
    case("cross_entropy[smoothing_sum]", [(N, C), T((N,))], label_smoothing=0.1,
         reduction="sum"),
    weighted("cross_entropy[weight_smoothing_ignore]", [(N, C), T((N,), ignore=1), W],
             label_smoothing=0.3, ignore_index=1),
    weighted("cross_entropy[weight_smoothing_none]", [(N, C), T((N,), ignore=-100), W],
             label_smoothing=0.3, reduction="none"),
    case("cross_entropy[kdim]", [(2, C, 3, 2), T((2, 3, 2))]),
    weighted("cross_entropy[kdim_weight_smoothing]", [(2, C, 3), T((2, 3), ignore=-100), W],
             label_smoothing=0.25, reduction="none"),
    case("cross_entropy[unbatched]", [(C,), Arg((), dtype=LONG, fn=_classes(C))]),
    case("cross_entropy[wide]", [Arg((N, C), low=-50, high=50), T((N,))]),
    # cross entropy with class probabilities
    case("cross_entropy[probs]", [(N, C), Arg((N, C), fn=_probs)]),
    weighted("cross_entropy[probs_weight]", [(N, C), Arg((N, C), fn=_probs), W],
             label_smoothing=0.2),
    case("cross_entropy[probs_kdim]", [(2, C, 3), Arg((2, C, 3), fn=_probs)],
         reduction="none"),
    *reductions("nll_loss", [(N, C), T((N,))]),
    weighted("nll_loss[weight]", [(N, C), T((N,), ignore=-100), W]),
    weighted("nll_loss[weight_sum]", [(N, C), T((N,), ignore=-100), W], reduction="sum"),
    case("nll_loss[ignore_index]", [(N, C), T((N,), ignore=0)], ignore_index=0,
         reduction="none"),
    case("nll_loss[3d]", [(2, C, 3), T((2, 3))]),
    weighted("nll_loss[4d]", [(2, C, 3, 2), T((2, 3, 2), ignore=-100), W], reduction="none"),
    case("nll_loss[unbatched]", [(C,), Arg((), dtype=LONG, fn=_classes(C))]),
    *reductions("binary_cross_entropy", [PROB, Arg((N, C), fn=_between(0, 1))]),
    weighted("binary_cross_entropy[weight]", [PROB, Arg((N, C), fn=_between(0, 1)),
                                              Arg((C,), fn=_between(0.5, 2),
                                                  requires_grad=False)]),
    *reductions("binary_cross_entropy_with_logits", [Arg((N, C), low=-4, high=4),
                                                     Arg((N, C), fn=_between(0, 1))]),
    weighted("binary_cross_entropy_with_logits[pos_weight]",
             [Arg((N, C), low=-4, high=4), Arg((N, C), fn=_between(0, 1)), W],
             arg="pos_weight"),
    weighted("binary_cross_entropy_with_logits[weight]",
             [Arg((N, C), low=-4, high=4), Arg((N, C), fn=_between(0, 1)), W]),
    case("kl_div[batchmean]", [Arg((N, C), fn=_log_probs), Arg((N, C), fn=_probs)],
         reduction="batchmean"),
    case("kl_div[sum]", [Arg((N, C), fn=_log_probs), Arg((N, C), fn=_probs)], reduction="sum"),
    case("kl_div[none]", [Arg((N, C), fn=_log_probs), Arg((N, C), fn=_probs)], reduction="none"),
    case("kl_div[log_target]", [Arg((N, C), fn=_log_probs), Arg((N, C), fn=_log_probs)],
         reduction="batchmean", log_target=True),
    *reductions("soft_margin_loss", [(N,), SIGNS]),
    *reductions("multilabel_soft_margin_loss", [(N, C), Arg((N, C), fn=_between(0, 1))]),
    weighted("multilabel_soft_margin_loss[weight]", [(N, C), Arg((N, C), fn=_between(0, 1)), W]),
    *reductions("multi_margin_loss", [(N, C), T((N,))]),
    case("multi_margin_loss[p2]", [(N, C), T((N,))], p=2, margin=0.7),
    weighted("multi_margin_loss[weight]", [(N, C), T((N,)), W], margin=0.5),
    case("multi_margin_loss[unbatched]", [(C,), Arg((), dtype=LONG, fn=_classes(C))]),
    *reductions("multilabel_margin_loss", [(N, C), Arg((N, C), dtype=LONG, fn=_multilabel)]),
    case("multilabel_margin_loss[unbatched]", [(C,), Arg((C,), dtype=LONG,
                                                          fn=lambda r, s, d: np.array(
                                                              [3, 0, -1, 2]))]),
    *reductions("margin_ranking_loss", [(N,), (N,), SIGNS], margin=0.1),
    *reductions("hinge_embedding_loss", [(N, C), Arg((N, C), fn=_signs, requires_grad=False)],
                margin=0.5),
    *reductions("cosine_embedding_loss", [(N, C), (N, C), SIGNS], margin=0.1),
    case("cosine_embedding_loss[unbatched]", [(C,), (C,), Arg((), fn=_signs,
                                                              requires_grad=False)]),
    *reductions("triplet_margin_loss", [(N, C), (N, C), (N, C)]),
    case("triplet_margin_loss[p1_swap]", [(N, C), (N, C), (N, C)], p=1, swap=True,
         margin=0.5),
    case("triplet_margin_loss[unbatched]", [(C,), (C,), (C,)], margin=2.0),
    case("triplet_margin_with_distance_loss", [(N, C), (N, C), (N, C)], swap=True),
    case("triplet_margin_with_distance_loss[custom]", [(N, C), (N, C), (N, C)],
         distance_function=lambda a, b: ((a - b) ** 2).sum(-1), margin=0.5, reduction="sum"),
    *reductions("poisson_nll_loss", [(N, C), Arg((N, C), fn=_between(0, 3))]),
    case("poisson_nll_loss[rate]", [Arg((N, C), fn=_between(0.2, 2)),
                                    Arg((N, C), fn=_between(0, 3))], log_input=False),
    case("poisson_nll_loss[full]", [(N, C), Arg((N, C), fn=_between(0.2, 3))], full=True),
    *reductions("gaussian_nll_loss", [(N, C), (N, C), Arg((N, C), fn=_between(0.2, 2))]),
    case("gaussian_nll_loss[homoscedastic]", [(N, C), (N, C), Arg((N, 1),
                                                                  fn=_between(0.2, 2))],
         full=True),
    case("gaussian_nll_loss[short_var]", [(N, C), (N, C), Arg((N,), fn=_between(0.2, 2))]),
    case("gaussian_nll_loss[tiny_var]", [(N, C), (N, C), Arg((N, C), fn=_between(0, 1e-7))],
         opts={"grad": False}),
    # CTC: torch's gradient for log_probs is the logits' gradient through log_softmax, so
    # gradcheck goes through log_softmax; parity compares the log_probs gradient directly.
    OpCase("ctc_loss", op=F.ctc_loss, torch_op="nn.functional.ctc_loss", inputs=_ctc_args(),
           kwargs={"reduction": "none"}, grad=False),
    OpCase("ctc_loss[mean]", op=F.ctc_loss, torch_op="nn.functional.ctc_loss",
           inputs=_ctc_args(), grad=False),
    OpCase("ctc_loss[logits]", op=_ctc_through_log_softmax,
           torch_op=_torch_ctc_through_log_softmax, inputs=_ctc_args(), gradgrad=False,
           kwargs={"reduction": "sum"}),
    OpCase("ctc_loss[blank_last]", op=F.ctc_loss, torch_op="nn.functional.ctc_loss",
           inputs=[Arg((6, 2, 4), fn=_log_probs), Arg((5,), dtype=LONG,
                                                      fn=lambda r, s, d: np.array(
                                                          [0, 1, 1, 2, 0])),
                   [6, 5], [3, 2]], kwargs={"blank": 3, "reduction": "sum"}, grad=False),
]
