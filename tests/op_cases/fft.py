"""Op-test descriptions for taimatsu.fft (shared by core and parity tests).

Every transform is checked with cropping (n/s smaller than the input), zero-padding (larger)
and the three normalizations (second derivatives with the default one only: the others
differ by a constant factor); gradients of the one-sided transforms follow torch's
conventions for the Hermitian half.
"""

import numpy as np

import taimatsu
from taimatsu.testing import FLOATS, OpCase

COMPLEX = (taimatsu.complex64, taimatsu.complex128)
NORMS = (None, "ortho", "forward")


def _np_norm(norm):
    return "backward" if norm is None else norm


def _resolved(name):
    """torch.fft.<name> with its lazy conjugations materialized.

    hfft/ihfft conjugate lazily in torch (a "conj bit" on the output or on the input's
    gradient), which the comparison helpers cannot read: `x * 1` and resolve_conj() make
    both plain tensors without changing any value.
    """
    def run(torch, x, **kwargs):
        return getattr(torch.fft, name)(x * 1, **kwargs).resolve_conj()
    return run


def _one_dim(name, shape, dtypes, n, dim, norm):
    kwargs = {"n": n, "dim": dim, "norm": norm}
    np_fn = getattr(np.fft, name)
    torch_op = _resolved(name) if name in ("hfft", "ihfft") else f"fft.{name}"
    return OpCase(f"fft.{name}[n={n}-dim={dim}-{norm}]", op=getattr(taimatsu.fft, name),
                  torch_op=torch_op, inputs=[shape], kwargs=kwargs, dtypes=dtypes,
                  numpy_op=lambda a, n, dim, norm: np_fn(a, n, dim, _np_norm(norm)),
                  gradgrad=norm is None)


def _np_axes(s, dim):
    """NumPy 2 wants explicit axes with s: torch's default is the last len(s) dims."""
    if dim is None and s is not None:
        return tuple(range(-len(s), 0))
    return dim


def _n_dim(name, shape, dtypes, s, dim, norm):
    kwargs = {"s": s, "dim": dim, "norm": norm}
    np_fn = getattr(np.fft, name.replace("hfft2", "hfftn").replace("ihfft2", "ihfftn"),
                    None)
    torch_op = _resolved(name) if "hfft" in name else f"fft.{name}"
    return OpCase(f"fft.{name}[s={s}-dim={dim}-{norm}]", op=getattr(taimatsu.fft, name),
                  torch_op=torch_op, inputs=[shape], kwargs=kwargs, dtypes=dtypes,
                  numpy_op=None if np_fn is None else (
                      lambda a, s, dim, norm: np_fn(a, s, _np_axes(s, dim), norm=_np_norm(norm))),
                  gradgrad=norm is None)


CASES = (
    [_one_dim(name, (5, 6), dt, n, 1, norm)
     for name, dt in (("fft", COMPLEX), ("ifft", COMPLEX), ("rfft", FLOATS), ("ihfft", FLOATS))
     for n in (None, 4, 9) for norm in NORMS]
    + [_one_dim(name, (6, 5), COMPLEX, n, 0, norm)
       for name in ("irfft", "hfft") for n in (None, 5, 11) for norm in NORMS]
    + [_n_dim(name, (3, 4, 5), dt, s, dim, norm)
       for name, dt in (("fftn", COMPLEX), ("ifftn", COMPLEX), ("rfftn", FLOATS),
                        ("irfftn", COMPLEX))
       for s, dim in ((None, None), ((3, 7), None), ((6, 3), (2, 0)))
       for norm in NORMS]
    + [_n_dim(name, (3, 4, 5), dt, s, (-2, -1), None)
       for name, dt in (("fft2", COMPLEX), ("ifft2", COMPLEX), ("rfft2", FLOATS),
                        ("irfft2", COMPLEX), ("hfft2", COMPLEX), ("ihfft2", FLOATS))
       for s in (None, (5, 3))]
    + [
        # real inputs to the complex transforms: real gradients
        OpCase("fft.fft[real]", op=taimatsu.fft.fft, torch_op="fft.fft", inputs=[(4, 6)],
               numpy_op=lambda a: np.fft.fft(a)),
        OpCase("fft.fftn[real]", op=taimatsu.fft.fftn, torch_op="fft.fftn", inputs=[(4, 6)],
               kwargs={"s": (5, 4)}, numpy_op=lambda a, s: np.fft.fftn(a, s, (0, 1))),
        OpCase("fft.irfft[real]", op=taimatsu.fft.irfft, torch_op="fft.irfft", inputs=[(4, 6)],
               numpy_op=lambda a: np.fft.irfft(a)),
        OpCase("fft.fftshift", op=taimatsu.fft.fftshift, torch_op="fft.fftshift",
               inputs=[(4, 5)], numpy_op=np.fft.fftshift),
        OpCase("fft.ifftshift[dim]", op=taimatsu.fft.ifftshift, torch_op="fft.ifftshift",
               inputs=[(3, 4, 5)], kwargs={"dim": (0, -1)},
               numpy_op=lambda a, dim: np.fft.ifftshift(a, dim)),
    ]
)
