"""taimatsu.cpu.amp: torch.cpu.amp's deprecated spellings of taimatsu.amp for the CPU."""

from __future__ import annotations

from ..amp._deprecated import CpuAutocast as autocast
from ..amp._deprecated import CpuGradScaler as GradScaler

__all__ = ["autocast", "GradScaler"]
