"""Random number generation: Generator, seeding, random creation ops and in-place samplers.

A `Generator` wraps a NumPy `Generator(PCG64)`; its state round-trips exactly through a
uint8 tensor. Every distribution here is built from five primitive draws (uniform floats,
standard normals, bounded integers, permutations, Poisson counts), which a `_NumpyDraw`
takes from the Generator on the CPU and a `_CupyDraw` from `cupy.random` on a GPU, so one
definition of each distribution serves both devices. We follow torch's API, dtypes and
errors, not its exact streams.

As in torch, sampling ops are differentiable with a zero gradient: normal's mean/std,
bernoulli's p, poisson's rates and the tensor an in-place sampler overwrites get zeros.
"""

from __future__ import annotations

import math
import operator
import secrets
import warnings

import ml_dtypes
import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import to_device, xp_for
from .._tensor import Size, Tensor
from ..autograd.node import Function
from ._util import broadcast_shapes_or_raise, check_device, finish, method
from .creation import _shape
from .inplace import _legacy, apply_inplace, check_inplace, kernel_missing

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
    "randint_like", "normal", "bernoulli", "multinomial", "poisson",
]

_U64 = (1 << 64) - 1
_DEFAULT_SEED = 67280421310721  # torch seeds every new Generator with this constant
_STATE_TAG = int.from_bytes(b"TMPCG64\x01", "little")  # marks our state layout, version 1
_STATE_BYTES = 64


# -- Generator ----------------------------------------------------------------------------------

class Generator:
    """A pseudo-random number generator (PCG64) whose state can be saved and restored.

    Args:
        device: the device of the tensors it samples ("cpu" or "cuda[:n]"). A CUDA
            generator keeps its state on the host and seeds a cupy.random draw per call.
    """

    __module__ = "taimatsu"

    def __init__(self, device="cpu"):
        self._device = to_device(device)
        if self._device.type == "cuda":
            xp_for(self._device)  # raises clearly when CUDA is not usable
            if self._device.index is None:
                cp = backend.cupy()
                self._device = to_device(f"cuda:{cp.cuda.runtime.getDevice()}")
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed) -> Generator:
        """Seeds the generator (any int in [-2**63, 2**64)); returns self."""
        self._seed = _as_seed(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seeds from OS entropy and returns the seed used."""
        s = secrets.randbits(64)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The full state as a uint8 tensor; `set_state` of it resumes the same stream."""
        st = self._rng.bit_generator.state
        pcg = st["state"]
        words = np.array([_STATE_TAG, self._seed, pcg["state"] >> 64, pcg["state"] & _U64,
                          pcg["inc"] >> 64, pcg["inc"] & _U64, st["has_uint32"],
                          st["uinteger"]], dtype="<u8")
        return Tensor._make(words.view(np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        words = [int(w) for w in _state_words(new_state)]
        self._seed = words[1]
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": words[2] << 64 | words[3], "inc": words[4] << 64 | words[5]},
            "has_uint32": words[6], "uinteger": words[7]}
        return self

    def __getstate__(self):
        return {"device": str(self._device), "state": bytes(self.get_state()._data)}

    def __setstate__(self, d):
        self._device = to_device(d["device"])
        self.manual_seed(0)
        self.set_state(Tensor._make(np.frombuffer(d["state"], dtype=np.uint8).copy()))


def _as_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError("Overflow when unpacking long long")
    return seed & _U64  # negative seeds wrap to uint64, as in torch


def _state_words(new_state) -> np.ndarray:
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a taimatsu.ByteTensor, but got {type(new_state).__name__}")
    if new_state.dtype is not D.uint8:
        raise TypeError("RNG state must be a taimatsu.ByteTensor")
    raw = np.ascontiguousarray(backend.to_numpy(new_state._data)).reshape(-1)
    if raw.size != _STATE_BYTES:
        raise RuntimeError(f"Expected a generator state of size {_STATE_BYTES} but found the "
                           f"input RNG state size to be {raw.size}")
    words = raw.view("<u8")
    # PCG64's increment is always odd; anything else did not come from get_state().
    if int(words[0]) != _STATE_TAG or not int(words[5]) & 1 or int(words[6]) > 1:
        raise RuntimeError("Invalid PCG64 state")
    return words


default_generator = Generator()
default_generator.seed()  # torch's default generator starts from a non-deterministic seed


def _seed_cuda(seed: int) -> None:
    """Seeds our kernels' Philox state and cupy.random on every GPU (never raises)."""
    from ..backend.cuda import random as cuda_random
    cuda_random.manual_seed_all(seed)  # dropout's kernels; also under the CPU emulator
    if not backend.cuda_available():
        return
    cp = backend.cupy()
    for index in range(cp.cuda.runtime.getDeviceCount()):
        with cp.cuda.Device(index):
            cp.random.seed(np.uint64(seed))  # cupy casts the seed to uint64 "safely"


def manual_seed(seed) -> Generator:
    """Seeds the default generator (and CUDA's); returns the default generator."""
    seed = _as_seed(int(seed))
    _seed_cuda(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seeds the default generator (and CUDA's) from OS entropy; returns the seed."""
    s = default_generator.seed()
    _seed_cuda(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


# -- primitive draws on each device ---------------------------------------------------------------

class _NumpyDraw:
    """The primitive draws, from a Generator's NumPy stream (CPU arrays)."""

    xp = np

    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def uniform(self, shape, np_dtype):
        return self._rng.random(shape, dtype=np_dtype)

    def normal(self, shape, np_dtype):
        return self._rng.standard_normal(shape, dtype=np_dtype)

    def integers(self, low, high, shape):
        """int64 values in [low, high] (both ends included)."""
        return self._rng.integers(low, high, shape, dtype=np.int64, endpoint=True)

    def permutation(self, n):
        return self._rng.permutation(n)

    def poisson(self, lam):
        return np.asarray(self._rng.poisson(lam))


class _CupyDraw:
    """The primitive draws, from a cupy.random.RandomState on one GPU (current while entered).

    Empty shapes never reach curand, whose generate calls want at least one number.
    """

    def __init__(self, state, index):
        self.xp = backend.cupy()
        self._rs = state
        self._device = self.xp.cuda.Device(index)

    def __enter__(self):
        self._device.__enter__()
        return self

    def __exit__(self, *exc):
        return self._device.__exit__(*exc)

    def uniform(self, shape, np_dtype):
        if math.prod(shape) == 0:
            return self.xp.empty(shape, dtype=np_dtype)
        return self._rs.random_sample(shape, np_dtype)

    def normal(self, shape, np_dtype):
        if math.prod(shape) == 0:
            return self.xp.empty(shape, dtype=np_dtype)
        return self._rs.standard_normal(shape, np_dtype)

    def integers(self, low, high, shape):
        if math.prod(shape) == 0:
            return self.xp.empty(shape, dtype=np.int64)
        return self._rs.randint(low, high + 1, shape, np.int64)

    def permutation(self, n):
        return self._rs.permutation(n)

    def poisson(self, lam):
        return self._rs.poisson(lam, lam.shape, np.int64)


def _source(generator, dev, fname: str):
    """The draws for tensors on `dev`, from `generator` or the device's default."""
    if generator is not None:
        if not isinstance(generator, Generator):
            raise TypeError(f"{fname}(): argument 'generator' must be taimatsu.Generator, not "
                            f"{type(generator).__name__}")
        if generator.device.type != dev.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{generator.device.type}'")
    if dev.type == "cpu":
        return _NumpyDraw((generator or default_generator)._rng)
    cp = backend.cupy()
    index = dev.index if dev.index is not None else cp.cuda.runtime.getDevice()
    with cp.cuda.Device(index):  # a curand state lives on the device current at creation
        if generator is None:
            state = cp.random.get_random_state()  # what manual_seed seeds via cupy.random
        else:
            # The generator's own stream picks the seed, so its get/set_state still
            # reproduces CUDA draws; Philox makes a fresh curand state cheap.
            state = cp.random.RandomState(generator._rng.integers(1 << 63, dtype=np.uint64),
                                          method=cp.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
    return _CupyDraw(state, index)


# -- distributions on arrays ---------------------------------------------------------------------

def _work(dt: D.dtype) -> D.dtype:
    """The dtype to compute in: half precisions sample in float32 and round at the end."""
    return D.float32 if dt in (D.float16, D.bfloat16) else dt


def _digits(dt: D.dtype) -> int:
    return int(ml_dtypes.finfo(dt.np).nmant) + 1


def _unit(draw, shape, dt: D.dtype):
    """Uniform [0, 1) with dt's mantissa bits (so it never rounds up to 1 in dt)."""
    if dt in (D.float32, D.float64):
        return draw.uniform(shape, dt.np)
    d = _digits(dt)
    return (draw.integers(0, (1 << d) - 1, shape) * 2.0 ** -d).astype(np.float32)


def _per_part(dt: D.dtype, sample):
    """`sample(real_dtype)`, drawn separately for the real and imaginary parts of complex dt."""
    if not dt.is_complex:
        return sample(dt).astype(dt.np, copy=False)
    real = dt.to_real()
    out = sample(real).astype(dt.np)
    out.imag = sample(real)
    return out


def _uniform(draw, shape, dt, low=0.0, high=1.0):
    if (low, high) == (0.0, 1.0):
        return _per_part(dt, lambda r: _unit(draw, shape, r))
    return _per_part(dt, lambda r: _unit(draw, shape, r) * (high - low) + low)


def _normal(draw, shape, dt, mean=0.0, std=1.0):
    """N(mean, std^2); complex dtypes split the variance evenly between the two parts."""
    scale = std * math.sqrt(0.5) if dt.is_complex else std
    return _per_part(dt, lambda r: draw.normal(shape, _work(r).np) * scale + mean)


def _open_unit(draw, shape):
    """float64 uniform in (0, 1]: safe to take the log of."""
    return 1.0 - draw.uniform(shape, np.float64)


# -- autograd: samples have zero gradient ---------------------------------------------------------

class _Sample(Function):
    """A random draw from `fn(*arrays)`; its tensor inputs get a zero gradient, as in torch."""

    @staticmethod
    def forward(ctx, *arrays, fn, name):
        ctx.mark_name(name)
        ctx.inputs = [(a.shape, a.dtype) for a in arrays]
        return fn(*arrays)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        return tuple(xp.zeros(shape, dtype=dtype) if need else None
                     for (shape, dtype), need in zip(ctx.inputs, ctx.needs_input_grad))


# -- argument checks ------------------------------------------------------------------------------

_CPP_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int",
              "int32": "int", "int64": "long int", "bool": "bool", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _fmt(x) -> str:
    """A number as torch's C++ messages print it (3.0 -> 3, 3e38 -> 3e+38)."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def _require_float(dt: D.dtype, kernel: str, complex_ok: bool = True) -> None:
    if not (dt.is_floating_point or (complex_ok and dt.is_complex)):
        raise kernel_missing(kernel, dt)


def _long(x, fname: str, arg: str, pos: int) -> int:
    """An int argument (Python int, NumPy integer or integer 0-dim tensor) in int64 range."""
    try:
        value = operator.index(x)
    except TypeError:
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be int, not "
                        f"{type(x).__name__}") from None
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return value


def _size(fname: str, args, size) -> tuple:
    """The shape for rand(2, 3), rand((2, 3)), rand([2, 3]) or rand(size=(2, 3))."""
    if size is not None:
        if args:
            raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                            "both positional sizes and size=")
        args = (size,)
    if not args:
        raise TypeError(f"{fname}() received an invalid combination of arguments - got (), "
                        "but expected one of: (tuple of ints size, ...)")
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    for i, s in enumerate(args):
        if isinstance(s, (float, bool)) or not hasattr(s, "__index__"):
            raise TypeError(f"{fname}(): argument 'size' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
    return _shape(tuple(operator.index(s) for s in args))


def _out_dtype(dtype, default: D.dtype) -> D.dtype:
    return default if dtype is None else D.to_dtype(dtype)


def _check_requires_grad(requires_grad: bool, dt: D.dtype) -> None:
    if requires_grad and dt._kind < 2:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")


def _created(arr, out, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return finish(t, out)


def _check_random_range(dt: D.dtype, low: int, high: int) -> None:
    """torch's checks for integers drawn from [low, high) into dtype dt."""
    if dt.is_complex:
        raise RuntimeError("check_random_bounds handles only integral, floating-point and "
                           "boolean types")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    lo, hi = _range_of(dt)
    if low < lo:
        raise RuntimeError(f"from is out of bounds for {_CPP_NAMES[dt.name]}")
    if high - 1 > hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_CPP_NAMES[dt.name]}")
    exact = 1 << _digits(dt) if dt.is_floating_point else None
    if exact is not None and (low < -exact or high - 1 > exact):
        warnings.warn(f"random_ bounds are outside [-(2^{_digits(dt)}), 2^{_digits(dt)}]: "
                      f"{_CPP_NAMES[dt.name]} can only hold a discrete uniform distribution "
                      "exactly within this range.", UserWarning, stacklevel=3)


def _range_of(dt: D.dtype) -> tuple:
    if dt is D.bool:
        return 0, 1
    if dt.is_floating_point:
        m = float(ml_dtypes.finfo(dt.np).max)
        return -m, m
    info = np.iinfo(dt.np)
    return int(info.min), int(info.max)


def _random_top(dt: D.dtype) -> int:
    """The largest value random_() draws for dt: 2^digits for floats, else dt's maximum."""
    return 1 << _digits(dt) if dt.is_floating_point else _range_of(dt)[1]


def _integers(draw, shape, dt: D.dtype, low: int, high_inclusive: int):
    return draw.integers(low, high_inclusive, shape).astype(dt.np)


# -- creation ---------------------------------------------------------------------------------

def rand(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform samples from [0, 1): rand(2, 3), rand((2, 3)) or rand(size=(2, 3))."""
    shape = _size("rand", sizes, size)
    return _uniform_like_new("rand", shape, generator, out, dtype, device, requires_grad)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False) -> Tensor:
    """Standard normal samples: randn(2, 3), randn((2, 3)) or randn(size=(2, 3))."""
    shape = _size("randn", sizes, size)
    return _normal_like_new("randn", shape, generator, out, dtype, device, requires_grad)


def _uniform_like_new(fname, shape, generator, out, dtype, device, requires_grad) -> Tensor:
    dt = _out_dtype(dtype, D.get_default_dtype())
    _require_float(dt, "check_uniform_bounds")
    _check_requires_grad(requires_grad, dt)
    dev = to_device(device)
    with _source(generator, dev, fname) as draw:
        return _created(_uniform(draw, shape, dt), out, requires_grad)


def _normal_like_new(fname, shape, generator, out, dtype, device, requires_grad,
                     mean=0.0, std=1.0) -> Tensor:
    dt = _out_dtype(dtype, D.get_default_dtype())
    _require_float(dt, "normal_kernel_cpu")
    _check_requires_grad(requires_grad, dt)
    dev = to_device(device)
    with _source(generator, dev, fname) as draw:
        return _created(_normal(draw, shape, dt, mean, std), out, requires_grad)


def rand_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None) -> Tensor:
    return _uniform_like_new("rand_like", tuple(input.shape), generator, None,
                             dtype or input.dtype, device or input.device, requires_grad)


def randn_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None) -> Tensor:
    return _normal_like_new("randn_like", tuple(input.shape), generator, None,
                            dtype or input.dtype, device or input.device, requires_grad)


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Integers drawn uniformly from [low, high): randint(high, size) or (low, high, size)."""
    low, high, size = _randint_args(args, low, high, size)
    dt = _out_dtype(dtype, D.int64)
    return _randint_new("randint", low, high, size, generator, out, dt, device, requires_grad)


def _randint_args(args, low, high, size) -> tuple:
    args = list(args)
    if size is None and len(args) >= 2:
        size = args.pop()
    if len(args) > 2 or size is None or (len(args) == 2 and (low, high) != (None, None)):
        raise TypeError(f"randint() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)}), but expected one of: "
                        "(int high, tuple of ints size, ...) or (int low, int high, tuple of "
                        "ints size, ...)")
    if len(args) == 2:
        low, high = args
    elif args and high is None:
        high = args[0]
    elif args:
        low = args[0]
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    n = len(args)
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"randint(): argument 'size' (position {n + 1}) must be tuple of ints, "
                        f"not {type(size).__name__}")
    low = 0 if low is None else _long(low, "randint", "low", 1)
    high = _long(high, "randint", "high", n)
    return low, high, _size("randint", (tuple(size),), None)


def _randint_new(fname, low, high, shape, generator, out, dt, device, requires_grad) -> Tensor:
    _check_random_range(dt, low, high)
    _check_requires_grad(requires_grad, dt)
    dev = to_device(device)
    with _source(generator, dev, fname) as draw:
        return _created(_integers(draw, shape, dt, low, high - 1), out, requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None) -> Tensor:
    """Integers from [low, high) in the shape of `input`: randint_like(input, high) too."""
    if high is None:
        low, high = 0, low
    low = _long(low, "randint_like", "low", 2)
    high = _long(high, "randint_like", "high", 3)
    return _randint_new("randint_like", low, high, tuple(input.shape), generator, None,
                        _out_dtype(dtype, input.dtype), device or input.device,
                        requires_grad)


_PERM_LIMITS = {"float16": (2049, "2049", "Half"), "float32": ((1 << 24) + 1, "2^24+1", "Float"),
                "float64": ((1 << 53) + 1, "2^53+1", "Double")}


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype says otherwise)."""
    n = _long(n, "randperm", "n", 1)
    _shape((n,))
    dt = _out_dtype(dtype, D.int64)
    if dt is D.bool or dt.is_complex:
        raise kernel_missing("randperm", dt)
    limit = _PERM_LIMITS.get(dt.name)
    if limit is not None and n > limit[0]:
        raise RuntimeError(f"n cannot be greater than {limit[1]} for {limit[2]} type.")
    if dt._kind == 1 and n - 1 > _range_of(dt)[1]:
        raise RuntimeError(f"value cannot be converted to type {dt.name}_t without overflow")
    _check_requires_grad(requires_grad, dt)
    dev = to_device(device)
    with _source(generator, dev, "randperm") as draw:
        arr = draw.permutation(n).astype(dt.np) if n else draw.xp.empty(0, dtype=dt.np)
        return _created(arr, out, requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False) -> Tensor:
    """Normal samples: elementwise for tensor mean and/or std, else `size` of them."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            "(Tensor, ..., size): size= is only valid with float mean and std")
        return finish(_normal_tensors(mean, std, generator), out)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, "
                        "float), but expected one of: (Tensor mean, Tensor std, ...), (float "
                        "mean, float std, tuple of ints size, ...)")
    _check_std(std)
    shape = _size("normal", (size,), None)
    return _normal_like_new("normal", shape, generator, out, dtype, device, requires_grad,
                            mean, std)


def _check_std(std) -> None:
    if not std >= 0.0:  # also refuses NaN
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")


def _normal_tensors(mean, std, generator) -> Tensor:
    """normal() with a tensor mean and/or std: its dtype, the broadcast shape."""
    if isinstance(std, Tensor):
        check_device(mean, std)
        if not _all(std._data, lambda a: a >= 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        _check_std(std)
    lead = mean if isinstance(mean, Tensor) else std
    dt = lead.dtype
    _require_float(dt, "normal_kernel_cpu")
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    shape = tensors[0]._data.shape
    if len(tensors) == 2:
        shape = broadcast_shapes_or_raise(shape, tensors[1]._data.shape)
    name = {(True, False): "NormalBackward1", (False, True): "NormalBackward2",
            (True, True): "NormalBackward3"}[isinstance(mean, Tensor), isinstance(std, Tensor)]
    work = _work(dt).np

    def sample(*arrays):
        it = iter(arrays)
        m = next(it).astype(work) if isinstance(mean, Tensor) else mean
        s = next(it).astype(work) if isinstance(std, Tensor) else std
        with _source(generator, lead.device, "normal") as draw:
            return (m + s * _normal(draw, shape, _work(dt))).astype(dt.np, copy=False)

    return _Sample.apply(*tensors, fn=sample, name=name)


@method()
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 draws in input's dtype: probability `input` elementwise, or the float `p`."""
    if p is not None:
        result = Tensor._make(input._data.copy())
        return finish(bernoulli_(result, p, generator=generator), out)
    dt = input.dtype
    if dt.is_complex:
        raise kernel_missing("bernoulli_tensor_cpu_self_", dt)
    _require_float(dt, "bernoulli_tensor_cpu_p_", complex_ok=False)
    _check_probabilities(input)

    def sample(probs):
        with _source(generator, input.device, "bernoulli") as draw:
            return _bernoulli(draw, probs.shape, probs).astype(dt.np)

    return finish(_Sample.apply(input, fn=sample, name="BernoulliBackward0"), out)


def _all(arr, predicate) -> bool:
    """Whether predicate(arr) holds everywhere (a host sync on CUDA, as in torch)."""
    return bool(backend.of(arr).all(predicate(arr)))


def _check_probabilities(p: Tensor) -> None:
    if not _all(p._data, lambda a: (a >= 0) & (a <= 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def _bernoulli(draw, shape, p):
    """True with probability p (a float or an array broadcasting to shape); u < 0 never is."""
    if not isinstance(p, float):
        p = p.astype(np.float64)
    return draw.uniform(shape, np.float64) < p


@method()
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None, out=None) -> Tensor:
    """Indices drawn from the categorical distribution in each row of `input` (int64)."""
    k = _long(num_samples, "multinomial", "num_samples", 2)
    _check_multinomial_args(input, k, replacement)
    probs = input._data.astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    _check_distributions(rows)
    with _source(generator, input.device, "multinomial") as draw:
        if rows.shape[0] == 0:
            idx = draw.xp.empty((0, k), dtype=np.int64)
        elif replacement:
            idx = _with_replacement(draw, rows, k)
        else:
            idx = _without_replacement(draw, rows, k)
    return finish(Tensor._make(idx.reshape(probs.shape[:-1] + (k,))), out)


def _check_multinomial_args(input: Tensor, k: int, replacement: bool) -> None:
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_legacy(input.dtype)}")
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = input.shape[-1]
    if not replacement and k > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if n > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")


def _check_distributions(rows) -> None:
    """Each row (float64) must be finite, non-negative and not all zero."""
    if rows.shape[0] == 0:
        return
    xp = backend.of(rows)
    if not _all(rows, lambda a: xp.isfinite(a) & (a >= 0)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if rows.shape[1] == 0 or not _all(rows.sum(axis=-1), lambda a: a > 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _with_replacement(draw, rows, k):
    """Inverse-CDF sampling, one row at a time."""
    xp = draw.xp
    cdf = xp.cumsum(rows, axis=-1)
    u = draw.uniform((rows.shape[0], k), np.float64) * cdf[:, -1:]
    # u < total, but rounding may put it on the total: clamp to the last category that
    # can be drawn (zero-probability categories never can: side="right" skips them).
    last = rows.shape[1] - 1 - xp.argmax(rows[:, ::-1] > 0, axis=-1)
    idx = xp.stack([xp.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
    return xp.minimum(idx, last[:, None]).astype(np.int64)


def _without_replacement(draw, rows, k):
    """The k largest p/E with E ~ Exp(1) (exponential races); zeros go last in random order."""
    xp = draw.xp
    e = -xp.log(_open_unit(draw, rows.shape))
    e = xp.maximum(e, np.finfo(np.float64).tiny)
    keys = xp.where(rows > 0, rows / e, -e)
    return xp.argsort(-keys, axis=-1)[:, :k].astype(np.int64)


_POISSON_MAX = 1e18  # NumPy refuses rates near 2^63 (torch returns garbage there)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson counts with the rates in `input`, in input's (floating) dtype."""
    dt = input.dtype
    _require_float(dt, "poisson_cpu", complex_ok=False)
    if not _all(input._data, lambda a: a >= 0):  # NaN fails too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")

    def sample(rates):
        with _source(generator, input.device, "poisson") as draw:
            lam = draw.xp.minimum(rates.astype(np.float64), _POISSON_MAX)
            return draw.poisson(lam).astype(dt.np)

    return _Sample.apply(input, fn=sample, name="PoissonBackward0")


# -- in-place samplers ------------------------------------------------------------------------

def _fill_(self: Tensor, fname: str, node_name: str, generator, sample, *params) -> Tensor:
    """Overwrites self with `sample(draw, shape, *param_arrays)` in self's dtype.

    Going through `_Sample` and `apply_inplace` gives the leaf check, the version bump and
    torch's node (e.g. UniformBackward0, zero gradient to the overwritten value).
    """
    check_inplace(self)
    shape, np_dtype = self._data.shape, self._data.dtype

    def fn(own, *arrays):
        with _source(generator, self.device, fname) as draw:
            return sample(draw, shape, *arrays).astype(np_dtype, copy=False)

    return apply_inplace(self, _Sample.apply(self, *params, fn=fn, name=node_name))


@method()
def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None) -> Tensor:
    """Fills self with uniform samples from [from_, to)."""
    dt = self.dtype
    _require_float(dt, "check_uniform_bounds")
    _check_uniform_bounds(dt.to_real(), from_, to)
    low, high = float(from_), float(to)
    return _fill_(self, "uniform_", "UniformBackward0", generator,
                  lambda d, shape: _uniform(d, shape, dt, low, high))


def _check_uniform_bounds(real: D.dtype, from_, to) -> None:
    lo, hi = _range_of(real)
    for label, v in (("from", from_), ("to", to)):
        if not (math.isfinite(v) and lo <= v <= hi):
            raise RuntimeError(f"{label} is out of bounds for {_CPP_NAMES[real.name]}")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(from_)} > to={_fmt(to)}")
    if to - from_ > hi:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_legacy(real)}>"
                           f"::max(), but found to={_fmt(to)} and from={_fmt(from_)} which "
                           "result in to-from to exceed the limit")


@method()
def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fills self with N(mean, std^2) samples."""
    dt = self.dtype
    _require_float(dt, "normal_kernel_cpu")
    _check_std(std)
    return _fill_(self, "normal_", "NormalBackward0", generator,
                  lambda d, shape: _normal(d, shape, dt, float(mean), float(std)))


_MISSING = object()


@method()
def random_(self: Tensor, from_=_MISSING, to=_MISSING, *, generator=None) -> Tensor:
    """Integers from [from_, to): random_() spans the dtype, random_(to) starts at 0.

    random_(from_, None) runs up to the dtype's top; for floats the top is 2^mantissa
    digits, the largest range where every integer is exact.
    """
    dt = self.dtype
    if from_ is _MISSING and to is _MISSING:
        if dt.is_complex:
            raise kernel_missing("random_kernel_cpu", dt)
        low, high, name = 0, _random_top(dt) + 1, "RandomBackward2"
    elif to is _MISSING or from_ is _MISSING:
        top = from_ if to is _MISSING else to
        low, high, name = 0, _long(top, "random_", "to", 1), "RandomBackward1"
    else:
        low = _long(from_, "random_", "from", 1)
        high = _random_top(dt) + 1 if to is None else _long(to, "random_", "to", 2)
        name = "RandomBackward0"
    _check_random_range(dt, low, high)
    return _fill_(self, "random_", name, generator,
                  lambda d, shape: d.integers(low, high - 1, shape))


@method()
def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fills self with 1 with probability p (a float or a broadcastable tensor), else 0."""
    dt = self.dtype
    if not isinstance(p, Tensor):
        if dt.is_complex:
            raise kernel_missing("bernoulli_scalar_cpu_", dt)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
        return _fill_(self, "bernoulli_", "BernoulliBackward2", generator,
                      lambda d, shape: _bernoulli(d, shape, float(p)))
    if dt.is_complex:
        raise kernel_missing("bernoulli_tensor_cpu_self_", dt)
    _require_float(p.dtype, "bernoulli_tensor_cpu_p_", complex_ok=False)
    check_device(self, p)
    _check_expandable(p, self._data.shape)
    _check_probabilities(p)
    return _fill_(self, "bernoulli_", "BernoulliBackward1", generator, _bernoulli, p)


def _check_expandable(t: Tensor, shape: tuple) -> None:
    """torch's expand() errors when `t` cannot be broadcast to exactly `shape`."""
    own = t._data.shape
    lead = len(shape) - len(own)
    if lead < 0:
        raise RuntimeError(f"expand({t.type()}{{{list(own)}}}, size={list(shape)}): the number "
                           f"of sizes provided ({len(shape)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(own)})")
    for i, (s, want) in enumerate(zip(own, shape[lead:])):
        if s != want and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the "
                               f"existing size ({s}) at non-singleton dimension {i + lead}.  "
                               f"Target sizes: {list(shape)}.  Tensor sizes: {list(own)}")


def _check_continuous(dt: D.dtype, what: str, type_name: str) -> None:
    if not dt.is_floating_point:
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {type_name}")


@method()
def exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    """Fills self with Exponential(rate lambd) samples."""
    _check_continuous(self.dtype, "Exponential", _legacy(self.dtype))
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    return _fill_(self, "exponential_", "ExponentialBackward0", generator,
                  lambda d, shape: -d.xp.log(_open_unit(d, shape)) / lambd)


@method()
def geometric_(self: Tensor, p, *, generator=None) -> Tensor:
    """Fills self with the number of Bernoulli(p) trials up to the first success (>= 1)."""
    dt = self.dtype
    if dt is D.bool or dt.is_complex:
        raise kernel_missing("geometric_cpu", dt)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    log_q = math.log1p(-p)
    # P(floor(log U / log(1-p)) >= k) = (1-p)^k for U uniform on (0, 1].
    return _fill_(self, "geometric_", "GeometricBackward0", generator,
                  lambda d, shape: d.xp.floor(d.xp.log(_open_unit(d, shape)) / log_q) + 1)


@method()
def log_normal_(self: Tensor, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fills self with exp(N(mean, std^2)) samples."""
    _require_float(self.dtype, "log_normal_cpu", complex_ok=False)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    return _fill_(self, "log_normal_", "LogNormalBackward0", generator,
                  lambda d, shape: d.xp.exp(d.normal(shape, np.float64) * std + mean))


@method()
def cauchy_(self: Tensor, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fills self with Cauchy(median, sigma) samples."""
    _check_continuous(self.dtype, "Cauchy", _CPP_NAMES[self.dtype.name])
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    return _fill_(self, "cauchy_", "CauchyBackward0", generator,
                  lambda d, shape: median + sigma * d.xp.tan(
                      math.pi * (d.uniform(shape, np.float64) - 0.5)))
