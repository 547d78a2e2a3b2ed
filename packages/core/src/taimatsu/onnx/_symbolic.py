"""Dynamic axes: which recorded sizes follow them, found by tracing again.

The forward pass computes sizes in Python (view(x.size(0), -1), slicing by a sequence
length, ...), so a trace alone holds plain ints. To know which of them follow a dynamic
axis, the model is traced once more per dynamic axis with only that axis one larger. Every
int that changes is then fitted as `coef * (product of the axes it follows) + offset`
-- a `SymInt` -- which the emitters compute from the graph inputs' shapes at run time.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ._trace import Const, Param, Reshaped, Value
from .errors import OnnxExporterWarning, SymbolicValueError


@dataclass(frozen=True)
class SymInt:
    """coef * prod(dims named `syms`) + offset; `value` is its size in the traced run."""

    coef: int
    syms: tuple
    offset: int
    value: int

    def __repr__(self) -> str:
        term = "*".join(self.syms)
        if self.coef != 1:
            term = f"{self.coef}*{term}"
        return term + (f"{self.offset:+d}" if self.offset else "")

    @property
    def symbol(self) -> str | None:
        """The axis name when this is exactly one dynamic axis (coef 1, no offset)."""
        if self.coef == 1 and self.offset == 0 and len(self.syms) == 1:
            return self.syms[0]
        return None


def is_static(x) -> bool:
    return not isinstance(x, SymInt)


def concrete(x) -> int:
    """The traced size of an int or a SymInt."""
    return x.value if isinstance(x, SymInt) else x


@dataclass(frozen=True)
class Repeated:
    """A tuple of `count` equal sizes whose length follows a dynamic axis (the per-step
    batch sizes of a recurrent layer over a dynamic sequence length)."""

    item: object
    count: object


def _uniform(seq) -> bool:
    return type(seq) in (tuple, list) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v == seq[0]
        for v in seq)


def broadcast(*shapes) -> tuple:
    """The broadcast of shapes whose sizes may be SymInts (equal sizes, or 1, broadcast)."""
    ndim = max((len(sh) for sh in shapes), default=0)
    out = []
    for i in range(ndim):
        sizes = [sh[i - ndim + len(sh)] for sh in shapes if i - ndim + len(sh) >= 0]
        big = [s for s in sizes if s != 1]
        out.append(big[0] if big else 1)
    return tuple(out)


def require_static(sizes, what: str) -> list:
    """The sizes as ints; a SymInt among them (a dynamic axis) is refused."""
    if any(isinstance(s, SymInt) for s in sizes):
        raise SymbolicValueError(f"{what} along a dynamic axis cannot be exported; make that "
                                 "axis static")
    return [int(s) for s in sizes]


class _Unifier:
    """Walks the base trace alongside the perturbed ones, turning varying ints into SymInts.

    `deltas` holds, per perturbed trace, (axis name, base size, perturbed size, check):
    traces with check=False are fitted, the others only verify the fit.
    """

    def __init__(self, deltas, where: str = ""):
        self.deltas = deltas
        self.where = where
        self.warned = False

    def walk(self, base, others):
        if isinstance(base, bool) or base is None or isinstance(base, (str, bytes)):
            return base
        if isinstance(base, (int, np.integer)):
            return self.fit(int(base), [int(o) if isinstance(o, (int, np.integer)) else o
                                        for o in others])
        if isinstance(base, float):
            if any(o != base for o in others if isinstance(o, float)):
                self.warn(f"the value {base!r} passed to {self.where}")
            return base
        if isinstance(base, Value):
            shape = self.walk(base.shape, [o.shape for o in others])
            return Value(base.name, shape, base.dtype)
        if isinstance(base, Reshaped):
            return Reshaped(self.walk(base.source, [o.source for o in others]),
                            self.walk(base.shape, [o.shape for o in others]))
        if isinstance(base, Const):
            if any(getattr(o, "shape", None) != base.shape for o in others):
                self.warn(f"a constant of shape {list(base.shape)} used by {self.where}")
            return base
        if isinstance(base, Param):
            return base
        if isinstance(base, slice):
            if any(not isinstance(o, slice) for o in others):
                raise self.mismatch()
            parts = self.walk((base.start, base.stop, base.step),
                              [(o.start, o.stop, o.step) for o in others])
            return slice(*parts)
        if type(base) in (tuple, list):
            if _uniform(base) and all(_uniform(o) for o in others) and base:
                if any(len(o) != len(base) for o in others):  # (B,) * T with T dynamic
                    return Repeated(self.walk(base[0], [o[0] for o in others]),
                                    self.fit(len(base), [len(o) for o in others]))
            if any(type(o) is not type(base) or len(o) != len(base) for o in others):
                raise self.mismatch()
            return type(base)(self.walk(b, [o[i] for o in others]) for i, b in enumerate(base))
        if type(base) is dict:
            if any(type(o) is not dict or o.keys() != base.keys() for o in others):
                raise self.mismatch()
            return {k: self.walk(v, [o[k] for o in others]) for k, v in base.items()}
        return base  # opaque op parameters (plans, windows): emitters read what they need

    def fit(self, base: int, others) -> int | SymInt:
        """Fits the sizes seen in the perturbed traces (the `fit` ones), then checks the
        fit against the `check` ones, which moved the same axes by another amount."""
        if all(o == base for o in others):
            return base
        if any(not isinstance(o, int) for o in others):
            raise self.mismatch()
        fits = [i for i, d in enumerate(self.deltas) if not d[3]]
        moved = [i for i in fits if others[i] != base]
        syms = tuple(self.deltas[i][0] for i in moved)
        if not moved or len(set(syms)) != len(syms):
            raise self.unfit(base)
        base_sizes = {self.deltas[i][0]: self.deltas[i][1] for i in fits}
        coef = None
        for i in moved:
            _, v0, v1, _ = self.deltas[i]
            rest = math.prod(base_sizes[s] for s in syms if s != self.deltas[i][0])
            c = Fraction(others[i] - base, rest * (v1 - v0))
            if coef is not None and c != coef:
                raise self.unfit(base)
            coef = c
        if coef.denominator != 1:
            raise self.unfit(base)
        coef = int(coef)
        offset = base - coef * math.prod(base_sizes[s] for s in syms)
        for i, (sym, _, v, check) in enumerate(self.deltas):
            if check:
                sizes = dict(base_sizes, **{sym: v})
                expect = coef * math.prod(sizes[s] for s in syms) + offset
                if others[i] != expect:
                    raise self.unfit(base)
        order = sorted(range(len(syms)), key=lambda k: syms[k])
        return SymInt(coef, tuple(syms[k] for k in order), offset, base)

    def warn(self, what: str) -> None:
        if not self.warned:
            self.warned = True
            warnings.warn(f"ONNX export: {what} changes with the size of a dynamic axis; the "
                          "traced value is recorded as a constant, so the exported model is "
                          "only valid for the traced size of that axis.", OnnxExporterWarning,
                          stacklevel=5)

    def mismatch(self) -> SymbolicValueError:
        return SymbolicValueError(
            f"The traced graph changes with the size of a dynamic axis (at {self.where}): "
            "the model takes a different path for another size, so it cannot be exported "
            "with that axis dynamic.")

    def unfit(self, base: int) -> SymbolicValueError:
        return SymbolicValueError(
            f"A size {base} used by {self.where} depends on the dynamic axes in a way the "
            "exporter cannot express as a * size + b (a division rounded up, say); export "
            "that axis with a static size.")


def symbolize(base, others, deltas):
    """The base trace's records and outputs with SymInts where sizes follow dynamic axes.

    base/others: (records, outputs) of the traced runs; deltas[i] = (axis name, base size,
    perturbed size, check) for others[i] (see _Unifier).
    """
    records, outputs = base
    for recs, _ in others:
        if len(recs) != len(records) or any(a.op is not b.op for a, b in zip(records, recs)):
            raise _Unifier(deltas, "the traced graph").mismatch()
    for i, rec in enumerate(records):
        unifier = _Unifier(deltas, op_label(rec.op))
        twins = [recs[i] for recs, _ in others]
        rec.args = unifier.walk(rec.args, [t.args for t in twins])
        rec.params = unifier.walk(rec.params, [t.params for t in twins])
        rec.outputs = unifier.walk(rec.outputs, [t.outputs for t in twins])
    unifier = _Unifier(deltas, "the model's outputs")
    return records, unifier.walk(outputs, [o for _, o in others])


def op_label(op) -> str:
    return f"'{getattr(op, '__name__', op)}'"
