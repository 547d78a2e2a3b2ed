"""Tests for ops/random.py: generators and seeding, random creation ops, in-place samplers.

Statistical checks are seeded (so deterministic) and use tolerances of many standard
errors or KS-test p-values far below any chance level, so they only fail on a real bug.
"""

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import taimatsu
from taimatsu.ops import random as R

N = 100_000  # samples for the statistical checks: ~1 ms to draw, standard errors ~0.3%


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _gen(seed=0):
    return taimatsu.Generator().manual_seed(seed)


def _assert_mean(x, expected, sd, k=6.0):
    """The sample mean of x lies within k standard errors of `expected`."""
    assert abs(x.mean() - expected) < k * sd / math.sqrt(x.size), (x.mean(), expected)


def _assert_ks(x, cdf):
    assert stats.kstest(x, cdf).pvalue > 1e-4


# -- Generator and seeding ----------------------------------------------------------------------

def test_manual_seed_makes_every_sampler_reproducible():
    def draw_all():
        x = taimatsu.zeros(6)
        return [taimatsu.rand(5), taimatsu.randn(5), taimatsu.randint(0, 100, (5,)),
                taimatsu.randperm(7), taimatsu.normal(taimatsu.zeros(4), taimatsu.ones(4)),
                taimatsu.bernoulli(taimatsu.full((6,), 0.5)),
                taimatsu.multinomial(taimatsu.ones(2, 5), 3),
                taimatsu.multinomial(taimatsu.ones(5), 8, True),
                taimatsu.poisson(taimatsu.full((5,), 3.0)),
                x.clone().uniform_(), x.clone().normal_(), x.clone().random_(9),
                x.clone().bernoulli_(0.3), x.clone().exponential_(), x.clone().geometric_(0.2),
                x.clone().log_normal_(), x.clone().cauchy_()]

    first = (taimatsu.manual_seed(123), draw_all())[1]
    second = (taimatsu.manual_seed(123), draw_all())[1]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    taimatsu.manual_seed(124)
    assert not np.array_equal(taimatsu.rand(5).numpy(), first[0].numpy())


def test_manual_seed_returns_default_generator_and_sets_initial_seed():
    g = taimatsu.manual_seed(7)
    assert g is taimatsu.default_generator
    assert taimatsu.initial_seed() == 7
    assert taimatsu.manual_seed(-1).initial_seed() == 2**64 - 1  # wraps like torch
    assert taimatsu.manual_seed(3.7).initial_seed() == 3  # module-level one calls int()


def test_generator_seed_validation():
    g = taimatsu.Generator()
    assert g.manual_seed(2**64 - 1).initial_seed() == 2**64 - 1
    assert g.manual_seed(-2**63).initial_seed() == 2**63
    assert g.manual_seed(np.int64(5)).initial_seed() == 5
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        g.manual_seed(2**64)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(-2**63 - 1)
    for bad, name in ((1.5, "float"), ("a", "str"), (True, "bool")):
        with pytest.raises(RuntimeError, match=f"manual_seed expected a long, but got {name}"):
            g.manual_seed(bad)


def test_new_generators_start_from_torchs_constant_seed():
    a, b = taimatsu.Generator(), taimatsu.Generator("cpu")
    assert a.initial_seed() == b.initial_seed() == 67280421310721
    assert a.device == taimatsu.device("cpu")
    np.testing.assert_array_equal(taimatsu.rand(4, generator=a).numpy(),
                                  taimatsu.rand(4, generator=b).numpy())
    assert a.manual_seed(1) is a
    assert repr(a).startswith("<taimatsu.Generator object at 0x")


def test_seed_uses_fresh_entropy():
    g = taimatsu.Generator()
    s1, s2 = g.seed(), g.seed()
    assert s1 != s2 and 0 <= s2 < 2**64 and g.initial_seed() == s2
    s = taimatsu.seed()
    assert taimatsu.initial_seed() == s


def test_state_round_trips_exactly():
    g = _gen(5)
    taimatsu.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype is taimatsu.uint8 and state.shape == (64,)
    a = [taimatsu.randn(5, generator=g), taimatsu.randint(10, (5,), generator=g)]
    g.manual_seed(99)
    assert g.set_state(state) is g
    assert g.initial_seed() == 5
    b = [taimatsu.randn(5, generator=g), taimatsu.randint(10, (5,), generator=g)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    live = g.get_state().numpy().copy()
    state.numpy()[:] = 0  # get_state() returned a copy, not the live state
    np.testing.assert_array_equal(g.get_state().numpy(), live)


def test_get_set_rng_state_restore_the_default_stream():
    taimatsu.manual_seed(11)
    state = taimatsu.get_rng_state()
    a = taimatsu.rand(8)
    assert taimatsu.set_rng_state(state) is None
    np.testing.assert_array_equal(taimatsu.rand(8).numpy(), a.numpy())


@given(st.integers(min_value=-2**63, max_value=2**64 - 1), st.integers(0, 5))
def test_any_seed_and_position_round_trips(seed, skip):
    g = taimatsu.Generator().manual_seed(seed)
    taimatsu.rand(skip, generator=g)  # odd/even positions exercise the cached uint32 word
    taimatsu.randint(2**40, (skip,), generator=g)
    state = g.get_state()
    expected = taimatsu.rand(3, generator=g).numpy()
    other = taimatsu.Generator().set_state(state)
    np.testing.assert_array_equal(taimatsu.rand(3, generator=other).numpy(), expected)


def test_set_state_errors():
    g = taimatsu.Generator()
    with pytest.raises(TypeError, match="expected a taimatsu.ByteTensor, but got list"):
        g.set_state([1, 2])
    with pytest.raises(TypeError, match="RNG state must be a taimatsu.ByteTensor"):
        g.set_state(taimatsu.zeros(64))
    with pytest.raises(RuntimeError, match="found the input RNG state size to be 3"):
        g.set_state(taimatsu.zeros(3, dtype=taimatsu.uint8))
    with pytest.raises(RuntimeError, match="Invalid PCG64 state"):
        g.set_state(taimatsu.zeros(64, dtype=taimatsu.uint8))
    with pytest.raises(TypeError, match="RNG state must be a taimatsu.ByteTensor"):
        taimatsu.set_rng_state(taimatsu.zeros(3))


def test_generators_are_independent():
    g1, g2 = _gen(1), _gen(1)
    a = taimatsu.rand(5, generator=g1)
    taimatsu.rand(100)  # the default generator's draws do not touch g2
    taimatsu.rand(100, generator=_gen(1))
    np.testing.assert_array_equal(taimatsu.rand(5, generator=g2).numpy(), a.numpy())
    taimatsu.manual_seed(3)
    x = taimatsu.rand(4)
    taimatsu.manual_seed(3)
    taimatsu.rand(10, generator=g1)  # a private generator does not advance the default
    np.testing.assert_array_equal(taimatsu.rand(4).numpy(), x.numpy())


def test_generator_pickles_and_copies_with_its_state():
    g = _gen(8)
    taimatsu.rand(3, generator=g)
    for clone in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert clone.initial_seed() == 8
        np.testing.assert_array_equal(taimatsu.rand(4, generator=clone).numpy(),
                                      taimatsu.rand(4, generator=copy.deepcopy(g)).numpy())


def test_generator_argument_is_checked():
    with pytest.raises(TypeError, match="argument 'generator' must be taimatsu.Generator"):
        taimatsu.rand(2, generator=1)
    with pytest.raises(TypeError, match="argument 'generator'"):
        taimatsu.zeros(2).uniform_(generator="x")


@pytest.mark.skipif(taimatsu.cuda.is_available(), reason="checks the CPU-only error")
def test_cuda_generator_needs_cuda():
    with pytest.raises(RuntimeError, match="CUDA"):
        taimatsu.Generator(device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not taimatsu.cuda.is_available(), reason="needs a GPU")
def test_generator_device_must_match_the_tensor():
    g = taimatsu.Generator(device="cuda")
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but "
                                           "found 'cuda'"):
        taimatsu.rand(2, generator=g)
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type"):
        taimatsu.rand(2, device="cuda", generator=taimatsu.Generator())


def test_samplers_run_on_every_device(device):
    g = taimatsu.Generator(device=device).manual_seed(4)
    state = g.get_state()
    a = taimatsu.rand(1000, device=device, generator=g)
    g.set_state(state)
    b = taimatsu.rand(1000, device=device, generator=g)
    assert a.device.type == device
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    x = taimatsu.zeros(1000, device=device)
    for fill in (lambda t: t.normal_(), lambda t: t.uniform_(-1, 1), lambda t: t.random_(7),
                 lambda t: t.exponential_(), lambda t: t.bernoulli_(0.5),
                 lambda t: t.geometric_(0.5), lambda t: t.log_normal_(), lambda t: t.cauchy_()):
        assert fill(x) is x and x.device.type == device
    assert sorted(taimatsu.randperm(10, device=device).cpu().tolist()) == list(range(10))
    probs = taimatsu.tensor([0.0, 1.0, 3.0], device=device)
    assert 0 not in taimatsu.multinomial(probs, 50, True).cpu().tolist()
    assert taimatsu.poisson(taimatsu.ones(5, device=device)).device.type == device


# -- rand / randn ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: taimatsu.rand(2, 3), lambda: taimatsu.rand((2, 3)), lambda: taimatsu.rand([2, 3]),
    lambda: taimatsu.rand(size=(2, 3)), lambda: taimatsu.rand(taimatsu.Size([2, 3])),
    lambda: taimatsu.randn(2, 3), lambda: taimatsu.randn(size=[2, 3])])
def test_rand_randn_size_forms(call):
    out = call()
    assert out.shape == (2, 3) and out.dtype is taimatsu.float32 and not out.requires_grad


def test_rand_dtypes_and_range():
    assert taimatsu.rand(()).shape == ()
    assert taimatsu.rand(0, 3).shape == (0, 3)
    for dt in (taimatsu.float16, taimatsu.bfloat16, taimatsu.float32, taimatsu.float64):
        x = taimatsu.rand(N, dtype=dt, generator=_gen())
        assert x.dtype is dt
        v = _np(x)
        assert v.min() >= 0 and v.max() < 1  # never rounds up to 1, even in half precision
        _assert_mean(v, 0.5, math.sqrt(1 / 12))
    _assert_ks(_np(taimatsu.rand(N, dtype=taimatsu.float64, generator=_gen())), "uniform")


def test_default_dtype_is_respected():
    taimatsu.set_default_dtype(taimatsu.float64)
    try:
        assert taimatsu.rand(2).dtype is taimatsu.float64
        assert taimatsu.randn(2).dtype is taimatsu.float64
        assert taimatsu.normal(0.0, 1.0, (2,)).dtype is taimatsu.float64
    finally:
        taimatsu.set_default_dtype(taimatsu.float32)


def test_randn_is_standard_normal():
    x = _np(taimatsu.randn(N, dtype=taimatsu.float64, generator=_gen()))
    _assert_ks(x, "norm")
    assert abs(x.std() - 1) < 0.02
    h = _np(taimatsu.randn(N, dtype=taimatsu.float16, generator=_gen()))
    _assert_mean(h, 0.0, 1.0)


def test_complex_rand_and_randn():
    z = taimatsu.rand(N, dtype=taimatsu.complex64, generator=_gen()).numpy()
    assert z.dtype == np.complex64
    for part in (z.real, z.imag):
        assert part.min() >= 0 and part.max() < 1
        _assert_mean(part.astype(np.float64), 0.5, math.sqrt(1 / 12))
    w = taimatsu.randn(N, dtype=taimatsu.complex128, generator=_gen()).numpy()
    # torch splits the unit variance evenly between the real and imaginary parts
    assert abs(w.real.var() - 0.5) < 0.02 and abs(w.imag.var() - 0.5) < 0.02
    assert abs(np.corrcoef(w.real, w.imag)[0, 1]) < 0.02


def test_rand_requires_grad_and_out():
    x = taimatsu.rand(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    out = taimatsu.empty(0)
    res = taimatsu.randn(2, 3, out=out)
    assert res is out and out.shape == (2, 3)


def test_rand_randn_errors():
    with pytest.raises(NotImplementedError, match="\"check_uniform_bounds\" not implemented "
                                                  "for 'Long'"):
        taimatsu.rand(2, dtype=taimatsu.int64)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for "
                                                  "'Bool'"):
        taimatsu.randn(2, dtype=taimatsu.bool)
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[-1\]"):
        taimatsu.rand(-1)
    with pytest.raises(TypeError, match="rand\\(\\) received an invalid combination"):
        taimatsu.rand()
    with pytest.raises(TypeError, match="randn\\(\\): argument 'size' failed to unpack"):
        taimatsu.randn(2, 2.5)


def test_rand_like_and_randn_like():
    base = taimatsu.zeros(2, 3, dtype=taimatsu.float64, requires_grad=True)
    x = taimatsu.rand_like(base)
    assert x.shape == (2, 3) and x.dtype is taimatsu.float64 and not x.requires_grad
    assert taimatsu.randn_like(base, dtype=taimatsu.float16).dtype is taimatsu.float16
    assert taimatsu.rand_like(base, requires_grad=True).requires_grad
    g1, g2 = _gen(2), _gen(2)
    np.testing.assert_array_equal(taimatsu.randn_like(base, generator=g1).numpy(),
                                  taimatsu.randn(2, 3, dtype=taimatsu.float64,
                                                 generator=g2).numpy())
    ints = taimatsu.zeros(2, dtype=taimatsu.int64)
    with pytest.raises(NotImplementedError, match="'Long'"):
        taimatsu.rand_like(ints)
    with pytest.raises(NotImplementedError, match="'Long'"):
        taimatsu.randn_like(ints)
    assert taimatsu.rand_like(ints, dtype=taimatsu.float32).dtype is taimatsu.float32


# -- randint / randint_like / randperm ------------------------------------------------------------

def test_randint_argument_forms():
    for out in (taimatsu.randint(5, (3,)), taimatsu.randint(2, 5, (3,)),
                taimatsu.randint(high=5, size=(3,)), taimatsu.randint(low=2, high=5, size=[3]),
                taimatsu.randint(2, high=5, size=(3,)), taimatsu.randint(5, size=(3,)),
                taimatsu.randint(taimatsu.tensor(5), taimatsu.Size([3]))):
        assert out.shape == (3,) and out.dtype is taimatsu.int64
    assert taimatsu.randint(5, (2, 2), dtype=taimatsu.float32).dtype is taimatsu.float32
    assert taimatsu.randint(3, (2,), dtype=taimatsu.float32, requires_grad=True).requires_grad


def test_randint_values_cover_the_range_uniformly():
    x = taimatsu.randint(-3, 4, (N,), generator=_gen()).numpy()
    counts = np.bincount(x + 3, minlength=7)
    assert x.min() == -3 and x.max() == 3
    assert stats.chisquare(counts).pvalue > 1e-4
    full = taimatsu.randint(-2**63, 2**63 - 1, (1000,), generator=_gen()).numpy()
    assert (full < 0).any() and (full > 2**62).any()
    b = taimatsu.randint(0, 2, (1000,), dtype=taimatsu.bool, generator=_gen()).numpy()
    assert b.dtype == np.bool_ and 400 < b.sum() < 600
    u8 = taimatsu.randint(0, 256, (N,), dtype=taimatsu.uint8, generator=_gen()).numpy()
    assert u8.min() == 0 and u8.max() == 255


def test_randint_errors():
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to', but "
                                           "got from=5 >= to=5"):
        taimatsu.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for unsigned char"):
        taimatsu.randint(0, 300, (3,), dtype=taimatsu.uint8)
    with pytest.raises(RuntimeError, match="from is out of bounds for short int"):
        taimatsu.randint(-2**15 - 1, 0, (3,), dtype=taimatsu.int16)
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for bool"):
        taimatsu.randint(0, 3, (3,), dtype=taimatsu.bool)
    with pytest.raises(RuntimeError, match="check_random_bounds handles only integral"):
        taimatsu.randint(3, (2,), dtype=taimatsu.complex64)
    with pytest.raises(TypeError, match="argument 'size' \\(position 2\\) must be tuple of "
                                        "ints, not int"):
        taimatsu.randint(5, 3)
    with pytest.raises(TypeError, match="randint\\(\\) received an invalid combination"):
        taimatsu.randint(5)
    with pytest.raises(TypeError, match="argument 'high' \\(position 1\\) must be int, not "
                                        "float"):
        taimatsu.randint(5.5, (2,))
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        taimatsu.randint(0, 2**63, (2,))
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype "
                                           "can require gradients"):
        taimatsu.randint(3, (2,), requires_grad=True)
    with pytest.warns(UserWarning, match="2\\^24"):
        taimatsu.randint(0, 2**25, (2,), dtype=taimatsu.float32)


def test_randint_like():
    base = taimatsu.zeros(2, 3)
    for out in (taimatsu.randint_like(base, 5), taimatsu.randint_like(base, 2, 5),
                taimatsu.randint_like(base, high=5), taimatsu.randint_like(base, low=1, high=5)):
        assert out.shape == (2, 3) and out.dtype is taimatsu.float32
        v = out.numpy()
        assert (v == np.round(v)).all() and v.min() >= 0 and v.max() < 5
    assert taimatsu.randint_like(base, 5, dtype=taimatsu.int64).dtype is taimatsu.int64
    ints = taimatsu.zeros(4, dtype=taimatsu.int32)
    assert taimatsu.randint_like(ints, 5).dtype is taimatsu.int32
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for unsigned char"):
        taimatsu.randint_like(taimatsu.zeros(2, dtype=taimatsu.uint8), 300)
    with pytest.raises(TypeError, match="must be int, not float"):
        taimatsu.randint_like(base, 5.5)


def test_randperm_is_a_permutation():
    for n, dt in ((0, taimatsu.int64), (1, taimatsu.int64), (1000, taimatsu.int64),
                  (256, taimatsu.uint8), (50, taimatsu.float16), (20, taimatsu.float32)):
        p = taimatsu.randperm(n, dtype=dt, generator=_gen())
        assert p.dtype is dt and p.shape == (n,)
        assert sorted(p.numpy().astype(np.int64).tolist()) == list(range(n))
    # every position is uniform over the values: the first element's mean is (n-1)/2
    firsts = np.array([taimatsu.randperm(10).numpy()[0] for _ in range(2000)], np.float64)
    _assert_mean(firsts, 4.5, math.sqrt(99 / 12))


def test_randperm_errors():
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[-1\]"):
        taimatsu.randperm(-1)
    with pytest.raises(RuntimeError, match="n cannot be greater than 2049 for Half type."):
        taimatsu.randperm(3000, dtype=taimatsu.float16)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without "
                                           "overflow"):
        taimatsu.randperm(300, dtype=taimatsu.uint8)
    with pytest.raises(NotImplementedError, match="\"randperm\" not implemented for 'Bool'"):
        taimatsu.randperm(2, dtype=taimatsu.bool)
    with pytest.raises(TypeError, match="argument 'n' \\(position 1\\) must be int, not float"):
        taimatsu.randperm(5.0)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        taimatsu.randperm(5, requires_grad=True)


# -- normal ---------------------------------------------------------------------------------------

def test_normal_overloads_shapes_and_dtypes():
    z3, o23 = taimatsu.zeros(3), taimatsu.ones(2, 3)
    assert taimatsu.normal(z3, o23).shape == (2, 3)
    assert taimatsu.normal(z3).shape == (3,)
    assert taimatsu.normal(z3, 2.0).dtype is taimatsu.float32
    assert taimatsu.normal(0.0, taimatsu.ones(3, dtype=taimatsu.float64)).dtype \
        is taimatsu.float64
    # with two tensors the result takes mean's dtype, as in torch
    assert taimatsu.normal(taimatsu.zeros(2, dtype=taimatsu.float16),
                           taimatsu.ones(2)).dtype is taimatsu.float16
    assert taimatsu.normal(z3, taimatsu.tensor([1, 1, 1])).dtype is taimatsu.float32
    assert taimatsu.normal(0.0, 1.0, (2, 3)).shape == (2, 3)
    assert taimatsu.normal(0, 1, size=(2,), dtype=taimatsu.float64).dtype is taimatsu.float64
    assert taimatsu.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad
    assert taimatsu.normal(mean=z3, std=taimatsu.ones(3)).shape == (3,)


def test_normal_statistics():
    g = _gen(1)
    m = taimatsu.tensor(np.repeat([[-5.0, 0.0, 10.0]], N // 10, axis=0))
    s = taimatsu.tensor(np.repeat([[1.0, 0.5, 3.0]], N // 10, axis=0))
    x = taimatsu.normal(m, s, generator=g).numpy()
    for j, (mu, sd) in enumerate(((-5.0, 1.0), (0.0, 0.5), (10.0, 3.0))):
        _assert_mean(x[:, j], mu, sd)
        assert abs(x[:, j].std() / sd - 1) < 0.05
    y = _np(taimatsu.normal(2.0, 3.0, (N,), generator=g))
    _assert_ks((y - 2.0) / 3.0, "norm")
    assert (taimatsu.normal(taimatsu.zeros(4), 0.0).numpy() == 0).all()


def test_normal_gradients_are_zero_with_torchs_node_names():
    m = taimatsu.zeros(3, requires_grad=True)
    s = taimatsu.ones(3, requires_grad=True)
    for out, name in ((taimatsu.normal(m, 1.0), "NormalBackward1"),
                      (taimatsu.normal(0.0, s), "NormalBackward2"),
                      (taimatsu.normal(m, s), "NormalBackward3")):
        assert out.requires_grad and out.grad_fn.name() == name
        out.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(s.grad.numpy(), np.zeros(3))


def test_normal_errors():
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        taimatsu.normal(taimatsu.zeros(3), -1.0)
    with pytest.raises(RuntimeError, match="found std nan"):
        taimatsu.normal(0.0, float("nan"), (2,))
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        taimatsu.normal(0.0, -taimatsu.ones(3))
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match the size "
                                           "of tensor b \\(2\\)"):
        taimatsu.normal(taimatsu.zeros(3), taimatsu.ones(2))
    with pytest.raises(NotImplementedError, match="'Long'"):
        taimatsu.normal(taimatsu.zeros(3, dtype=taimatsu.int64), 1.0)
    with pytest.raises(NotImplementedError, match="'Long'"):
        taimatsu.normal(0.0, 1.0, (3,), dtype=taimatsu.int64)
    with pytest.raises(TypeError, match="invalid combination"):
        taimatsu.normal(0.0, 1.0)


# -- bernoulli / multinomial / poisson -------------------------------------------------------------

def test_bernoulli_tensor_probabilities():
    p = taimatsu.tensor(np.repeat([[0.0, 0.2, 0.9, 1.0]], N // 4, axis=0))
    x = taimatsu.bernoulli(p, generator=_gen())
    assert x.dtype is taimatsu.float64 and x.shape == p.shape
    v = x.numpy()
    assert set(np.unique(v)) <= {0.0, 1.0}
    assert v[:, 0].sum() == 0 and v[:, 3].all()
    for j, q in ((1, 0.2), (2, 0.9)):
        _assert_mean(v[:, j], q, math.sqrt(q * (1 - q)))
    assert taimatsu.full((3,), 0.5).bernoulli().dtype is taimatsu.float32


def test_bernoulli_with_scalar_p_and_inplace_tensor_p():
    base = taimatsu.full((N,), 0.9)
    x = taimatsu.bernoulli(base, 0.25, generator=_gen())
    assert x.dtype is taimatsu.float32 and (base.numpy() == 0.9).all()  # input untouched
    _assert_mean(_np(x), 0.25, math.sqrt(0.25 * 0.75))
    ints = taimatsu.zeros(N // 10, dtype=taimatsu.int64).bernoulli_(0.5)
    assert ints.dtype is taimatsu.int64 and set(np.unique(ints.numpy())) == {0, 1}
    flags = taimatsu.zeros(100, dtype=taimatsu.bool).bernoulli_(1.0)
    assert flags.numpy().all()
    grid = taimatsu.zeros(N // 10, 2).bernoulli_(taimatsu.tensor([0.0, 1.0]))
    assert (grid.numpy()[:, 0] == 0).all() and (grid.numpy()[:, 1] == 1).all()


def test_bernoulli_gradient_and_errors():
    p = taimatsu.full((3,), 0.5, requires_grad=True)
    out = taimatsu.bernoulli(p)
    assert out.grad_fn.name() == "BernoulliBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1 to be true"):
        taimatsu.bernoulli(taimatsu.full((3,), 1.5))
    with pytest.raises(RuntimeError, match="Expected p_in >= 0"):
        taimatsu.bernoulli(taimatsu.full((3,), float("nan")))
    with pytest.raises(RuntimeError, match="bernoulli_ expects p to be in \\[0, 1\\], but got "
                                           "p=1.5"):
        taimatsu.bernoulli(taimatsu.full((3,), 0.5), 1.5)
    with pytest.raises(NotImplementedError, match="\"bernoulli_tensor_cpu_p_\" not implemented "
                                                  "for 'Long'"):
        taimatsu.bernoulli(taimatsu.ones(3, dtype=taimatsu.int64))
    with pytest.raises(NotImplementedError, match="bernoulli_scalar_cpu_"):
        taimatsu.zeros(3, dtype=taimatsu.complex64).bernoulli_()
    with pytest.raises(RuntimeError, match="must be greater or equal to the number of "
                                           "dimensions in the tensor \\(2\\)"):
        taimatsu.zeros(3).bernoulli_(taimatsu.full((2, 3), 0.2))
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(3\\) must match "
                                           "the existing size \\(2\\)"):
        taimatsu.zeros(3).bernoulli_(taimatsu.full((2,), 0.2))


def test_multinomial_shapes_and_without_replacement():
    assert taimatsu.multinomial(taimatsu.ones(4), 2).shape == (2,)
    rows = taimatsu.multinomial(taimatsu.rand(50, 6) + 0.1, 6, generator=_gen())
    assert rows.dtype is taimatsu.int64 and rows.shape == (50, 6)
    for r in rows.numpy():
        assert sorted(r.tolist()) == list(range(6))  # no repeats within a row
    # zero-probability categories come only after every positive one
    out = taimatsu.multinomial(taimatsu.tensor([0.0, 0.0, 1.0, 0.0]), 4).numpy()
    assert out[0] == 2 and sorted(out.tolist()) == [0, 1, 2, 3]
    assert taimatsu.multinomial(taimatsu.zeros(0, 3), 2).shape == (0, 2)
    assert taimatsu.ones(4).multinomial(2, replacement=True).shape == (2,)


def test_multinomial_frequencies():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    probs = taimatsu.tensor(p * 7)  # unnormalized weights are fine
    x = taimatsu.multinomial(probs, N, True, generator=_gen()).numpy()
    counts = np.bincount(x, minlength=4)
    assert counts[1] == 0
    keep = p > 0
    assert stats.chisquare(counts[keep], N * p[keep]).pvalue > 1e-4
    # without replacement, the first draw follows p and the second follows p renormalized
    rows = taimatsu.multinomial(taimatsu.tensor(np.tile(p, (N // 5, 1))), 2,
                                generator=_gen()).numpy()
    first = np.bincount(rows[:, 0], minlength=4)
    assert stats.chisquare(first[keep], (N // 5) * p[keep]).pvalue > 1e-4
    after_2 = rows[rows[:, 0] == 2, 1]
    q = np.array([0.1, 0.0, 0.0, 0.3]) / 0.4
    sec = np.bincount(after_2, minlength=4)
    assert stats.chisquare(sec[[0, 3]], after_2.size * q[[0, 3]]).pvalue > 1e-4


def test_multinomial_errors():
    ones = taimatsu.ones(4)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size\\(-1\\) "
                                           "samples without replacement"):
        taimatsu.multinomial(ones, 5)
    with pytest.raises(RuntimeError, match="cannot sample n_sample <= 0 samples"):
        taimatsu.multinomial(ones, 0)
    with pytest.raises(RuntimeError, match="prob_dist must be 1 or 2 dim"):
        taimatsu.multinomial(taimatsu.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="multinomial only supports floating-point dtypes "
                                           "for input, got: Long"):
        taimatsu.multinomial(taimatsu.ones(4, dtype=taimatsu.int64), 2)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, "
                                               "`nan` or element < 0"):
            taimatsu.multinomial(taimatsu.tensor([1.0, bad, 1.0]), 2)
    with pytest.raises(RuntimeError, match="invalid multinomial distribution \\(sum of "
                                           "probabilities <= 0\\)"):
        taimatsu.multinomial(taimatsu.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True)
    with pytest.raises(TypeError, match="argument 'num_samples' \\(position 2\\) must be int"):
        taimatsu.multinomial(ones, 2.0)


def test_poisson():
    rates = taimatsu.tensor(np.repeat([[0.0, 0.5, 4.0, 1e3]], N // 4, axis=0))
    x = taimatsu.poisson(rates, _gen())
    assert x.dtype is taimatsu.float64 and x.shape == rates.shape
    v = x.numpy()
    assert (v[:, 0] == 0).all() and (v == np.round(v)).all()
    for j, lam in ((1, 0.5), (2, 4.0), (3, 1e3)):
        _assert_mean(v[:, j], lam, math.sqrt(lam))
        assert abs(v[:, j].var() / lam - 1) < 0.05
    assert taimatsu.poisson(taimatsu.ones(3, dtype=taimatsu.float16)).dtype is taimatsu.float16
    r = taimatsu.ones(3, requires_grad=True)
    out = taimatsu.poisson(r)
    assert out.grad_fn.name() == "PoissonBackward0"
    out.sum().backward()
    np.testing.assert_array_equal(r.grad.numpy(), np.zeros(3))
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be "
                                           "non-negative"):
        taimatsu.poisson(-taimatsu.ones(3))
    with pytest.raises(NotImplementedError, match="\"poisson_cpu\" not implemented for 'Long'"):
        taimatsu.poisson(taimatsu.ones(3, dtype=taimatsu.int64))


# -- in-place samplers ------------------------------------------------------------------------------

_FILLS = {
    "uniform_": lambda t, **kw: t.uniform_(**kw),
    "normal_": lambda t, **kw: t.normal_(**kw),
    "random_": lambda t, **kw: t.random_(**kw),
    "bernoulli_": lambda t, **kw: t.bernoulli_(**kw),
    "exponential_": lambda t, **kw: t.exponential_(**kw),
    "geometric_": lambda t, **kw: t.geometric_(0.3, **kw),
    "log_normal_": lambda t, **kw: t.log_normal_(**kw),
    "cauchy_": lambda t, **kw: t.cauchy_(**kw),
}
_NODES = {"uniform_": "UniformBackward0", "normal_": "NormalBackward0",
          "random_": "RandomBackward2", "bernoulli_": "BernoulliBackward2",
          "exponential_": "ExponentialBackward0", "geometric_": "GeometricBackward0",
          "log_normal_": "LogNormalBackward0", "cauchy_": "CauchyBackward0"}


@pytest.mark.parametrize("name", sorted(_FILLS))
def test_inplace_sampler_contract(name):
    fill = _FILLS[name]
    x = taimatsu.zeros(4, 5)
    assert fill(x) is x and x._version == 1 and x.dtype is taimatsu.float32
    # same generator state, same numbers
    a, b = fill(taimatsu.zeros(6), generator=_gen(3)), fill(taimatsu.zeros(6), generator=_gen(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # leaves that require grad are refused; non-leaves get torch's node and a zero gradient
    leaf = taimatsu.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        fill(leaf)
    y = leaf * 2
    fill(y)
    assert y.grad_fn.name() == _NODES[name]
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.zeros(3))
    # a non-contiguous view writes through to its base
    base = taimatsu.zeros(6, 4, dtype=taimatsu.float64)
    view = base[::2, 1]
    fill(view)
    assert base._version == 1 and (base.numpy()[1::2] == 0).all()
    assert (base.numpy()[::2, 1] == view.numpy()).all()


def test_uniform_():
    x = _np(taimatsu.empty(N, dtype=taimatsu.float64).uniform_(-2, 3, generator=_gen()))
    assert x.min() >= -2 and x.max() < 3
    _assert_ks((x + 2) / 5, "uniform")
    assert (taimatsu.zeros(3).uniform_(2, 2).numpy() == 2).all()
    h = _np(taimatsu.empty(N, dtype=taimatsu.float16).uniform_(generator=_gen()))
    assert h.max() < 1
    z = taimatsu.zeros(N, dtype=taimatsu.complex128).uniform_(1, 2).numpy()
    assert z.real.min() >= 1 and z.imag.max() < 2


def test_uniform_errors():
    with pytest.raises(RuntimeError, match="uniform_ expects to return a \\[from, to\\) range, "
                                           "but found from=3 > to=2"):
        taimatsu.zeros(3).uniform_(3, 2)
    with pytest.raises(RuntimeError, match="to is out of bounds for c10::Half"):
        taimatsu.zeros(3, dtype=taimatsu.float16).uniform_(0, 1e6)
    with pytest.raises(RuntimeError, match="to is out of bounds for float"):
        taimatsu.zeros(3).uniform_(0, float("inf"))
    with pytest.raises(RuntimeError, match="from is out of bounds for float"):
        taimatsu.zeros(3, dtype=taimatsu.complex64).uniform_(float("nan"), 1)
    with pytest.raises(RuntimeError, match="uniform_ expects to-from <= std::numeric_limits"
                                           "<Float>::max\\(\\), but found to=3e\\+38 and "
                                           "from=-3e\\+38"):
        taimatsu.zeros(3).uniform_(-3e38, 3e38)
    with pytest.raises(NotImplementedError, match="\"check_uniform_bounds\" not implemented "
                                                  "for 'Long'"):
        taimatsu.zeros(3, dtype=taimatsu.int64).uniform_()


def test_normal_():
    x = _np(taimatsu.empty(N, dtype=taimatsu.float64).normal_(3, 2, generator=_gen()))
    _assert_ks((x - 3) / 2, "norm")
    assert (taimatsu.zeros(3).normal_(1, 0).numpy() == 1).all()
    z = taimatsu.zeros(N, dtype=taimatsu.complex128).normal_(1.0, 2.0).numpy()
    # complex: the mean goes to both parts, the variance std^2 is split between them
    _assert_mean(z.real, 1.0, math.sqrt(2))
    _assert_mean(z.imag, 1.0, math.sqrt(2))
    assert abs(z.real.var() - 2) < 0.1
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        taimatsu.zeros(3).normal_(1, -1)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for "
                                                  "'Long'"):
        taimatsu.zeros(3, dtype=taimatsu.int64).normal_()


@pytest.mark.parametrize("dtype, low, high", [
    (taimatsu.int8, 0, 127), (taimatsu.uint8, 0, 255), (taimatsu.bool, 0, 1),
    (taimatsu.float16, 0, 2048), (taimatsu.bfloat16, 0, 256)])
def test_random_default_range(dtype, low, high):
    x = _np(taimatsu.zeros(N, dtype=dtype).random_(generator=_gen()))
    assert x.min() == low and x.max() == high and (x == np.round(x)).all()


def test_random_ranges():
    big = _np(taimatsu.zeros(N, dtype=taimatsu.float32).random_(generator=_gen()))
    assert big.min() >= 0 and big.max() <= 2**24 and big.max() > 2**23
    x = taimatsu.zeros(N, dtype=taimatsu.int64).random_(5, generator=_gen()).numpy()
    assert set(np.unique(x)) == {0, 1, 2, 3, 4}
    y = taimatsu.zeros(N).random_(-3, 2).numpy()
    assert set(np.unique(y)) == {-3, -2, -1, 0, 1}
    z = taimatsu.zeros(N, dtype=taimatsu.int8).random_(-5, None).numpy()
    assert z.min() == -5 and z.max() == 127
    w = taimatsu.zeros(1000, dtype=taimatsu.int64).random_(to=3).numpy()
    assert set(np.unique(w)) == {0, 1, 2}
    y = taimatsu.ones(3, requires_grad=True) * 2
    assert y.random_(5).grad_fn.name() == "RandomBackward1"
    assert y.random_(1, 5).grad_fn.name() == "RandomBackward0"


def test_random_errors():
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to', but "
                                           "got from=5 >= to=2"):
        taimatsu.zeros(3).random_(5, 2)
    with pytest.raises(RuntimeError, match="from is out of bounds for signed char"):
        taimatsu.zeros(3, dtype=taimatsu.int8).random_(-200, 5)
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for c10::Half"):
        taimatsu.zeros(3, dtype=taimatsu.float16).random_(0, 70000)
    with pytest.raises(NotImplementedError, match="\"random_kernel_cpu\" not implemented for "
                                                  "'ComplexFloat'"):
        taimatsu.zeros(3, dtype=taimatsu.complex64).random_()
    with pytest.raises(TypeError, match="must be int, not float"):
        taimatsu.zeros(3).random_(0.5, 3)


def test_exponential_geometric_log_normal_cauchy_distributions():
    g = _gen(9)
    e = _np(taimatsu.empty(N, dtype=taimatsu.float64).exponential_(2.0, generator=g))
    assert e.min() >= 0
    _assert_ks(e * 2.0, "expon")
    geo = taimatsu.empty(N, dtype=taimatsu.int64).geometric_(0.25, generator=g).numpy()
    assert geo.min() == 1 and geo.dtype == np.int64
    _assert_mean(geo.astype(np.float64), 4.0, math.sqrt(0.75) / 0.25)
    assert abs((geo == 1).mean() - 0.25) < 0.01 and abs((geo == 2).mean() - 0.1875) < 0.01
    ln = _np(taimatsu.empty(N, dtype=taimatsu.float64).log_normal_(1.0, 0.5, generator=g))
    _assert_ks((np.log(ln) - 1.0) / 0.5, "norm")
    c = _np(taimatsu.empty(N, dtype=taimatsu.float64).cauchy_(2.0, 3.0, generator=g))
    _assert_ks((c - 2.0) / 3.0, "cauchy")
    half = _np(taimatsu.empty(N, dtype=taimatsu.float16).exponential_(generator=g))
    _assert_mean(half, 1.0, 1.0)


def test_continuous_sampler_errors():
    ints = taimatsu.zeros(3, dtype=taimatsu.int64)
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0, but found "
                                           "lambda=0"):
        taimatsu.zeros(3).exponential_(0)
    with pytest.raises(RuntimeError, match="Exponential distribution is a continuous "
                                           "probability distribution. dtype must be a floating "
                                           "point but you specified Long"):
        ints.exponential_()
    with pytest.raises(RuntimeError, match="geometric_ expects p to be in \\(0, 1\\), but got "
                                           "p=1"):
        taimatsu.zeros(3).geometric_(1)
    with pytest.raises(NotImplementedError, match="\"geometric_cpu\" not implemented for "
                                                  "'Bool'"):
        taimatsu.zeros(3, dtype=taimatsu.bool).geometric_(0.5)
    with pytest.raises(RuntimeError, match="log_normal_ expects std > 0.0, but found std=0"):
        taimatsu.zeros(3).log_normal_(1, 0)
    with pytest.raises(NotImplementedError, match="\"log_normal_cpu\" not implemented for "
                                                  "'Long'"):
        ints.log_normal_()
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0, but found sigma=-1"):
        taimatsu.zeros(3).cauchy_(0, -1)
    with pytest.raises(RuntimeError, match="dtype must be a floating point but you specified "
                                           "long int"):
        ints.cauchy_()
    assert taimatsu.zeros(3, dtype=taimatsu.uint8).geometric_(0.5).dtype is taimatsu.uint8


def test_functions_and_methods_are_exported():
    for name in R.__all__:
        assert getattr(taimatsu, name) is getattr(R, name)
    for name in ("uniform_", "normal_", "random_", "bernoulli_", "exponential_", "geometric_",
                 "log_normal_", "cauchy_", "bernoulli", "multinomial"):
        assert callable(getattr(taimatsu.Tensor, name))
