"""scaled_dot_product_attention cases for the op-test harness (no torch import here)."""

from taimatsu.nn import functional as F
from taimatsu.testing import Arg, OpCase

SDPA = "nn.functional.scaled_dot_product_attention"

Q, K, V = (2, 2, 3, 4), (2, 2, 4, 4), (2, 2, 4, 3)


def _mask_keeping_a_key(rng, shape, np_dtype):
    """A boolean 'may attend' mask in which every query keeps at least one key."""
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True
    return mask


def _sdpa(name, inputs, gradgrad=False, **kwargs):
    return OpCase(name, op=F.scaled_dot_product_attention, torch_op=SDPA, inputs=inputs,
                  kwargs=kwargs, gradgrad=gradgrad)


CASES = [
    # second derivatives: the backward recomputes the probabilities as a graph
    _sdpa("sdpa", [Q, K, V], gradgrad=True),
    _sdpa("sdpa[causal]", [Q, K, V], is_causal=True, gradgrad=True),
    _sdpa("sdpa[float_mask]", [Q, K, V, Arg((2, 3, 4), low=-2, high=2)], gradgrad=True),
    _sdpa("sdpa[causal_square]", [(2, 2, 4, 4), K, V], is_causal=True),
    _sdpa("sdpa[scale]", [Q, K, V], scale=0.3),
    _sdpa("sdpa[bool_mask]", [Q, K, V, Arg((3, 4), dtype="bool", fn=_mask_keeping_a_key)]),
    _sdpa("sdpa[bool_mask_batched]",
          [Q, K, V, Arg((2, 1, 3, 4), dtype="bool", fn=_mask_keeping_a_key)]),
    _sdpa("sdpa[broadcast_batch]", [(2, 3, 4), K, V]),
    _sdpa("sdpa[3d]", [(3, 4, 5), (3, 6, 5), (3, 6, 2)]),
    _sdpa("sdpa[2d]", [(4, 5), (6, 5), (6, 2)]),
    _sdpa("sdpa[gqa]", [(2, 4, 3, 4), (2, 2, 4, 4), (2, 2, 4, 3)], enable_gqa=True),
    _sdpa("sdpa[dropout0]", [Q, K, V], dropout_p=0.0),
]
