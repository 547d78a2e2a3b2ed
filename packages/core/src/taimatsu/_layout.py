"""Memory layouts: `taimatsu.strided` (dense arrays) and `taimatsu.sparse_coo`."""

from __future__ import annotations

__all__ = ["layout", "sparse_coo", "strided"]


class layout:
    """A tensor's memory layout; one instance per kind, compared by identity."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"taimatsu.{self._name}"

    def __reduce__(self):
        # Unpickles to the same singleton.
        return self._name


strided = layout("strided")
sparse_coo = layout("sparse_coo")
