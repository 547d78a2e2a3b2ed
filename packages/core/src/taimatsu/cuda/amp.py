"""taimatsu.cuda.amp: torch.cuda.amp's deprecated spellings of taimatsu.amp for CUDA."""

from __future__ import annotations

from ..amp._deprecated import CudaAutocast as autocast
from ..amp._deprecated import CudaGradScaler as GradScaler
from ..amp._deprecated import cuda_custom_bwd as custom_bwd
from ..amp._deprecated import cuda_custom_fwd as custom_fwd

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler"]
