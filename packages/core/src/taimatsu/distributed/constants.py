"""Defaults shared by the process groups (torch.distributed.constants)."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

# As torch: a collective that makes no progress for this long raises instead of hanging.
default_pg_timeout = timedelta(minutes=30)
default_pg_nccl_timeout = timedelta(minutes=10)
