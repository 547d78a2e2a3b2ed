"""taimatsu.amp: automatic mixed precision, as torch.amp.

autocast runs regions of a program with the ops on PyTorch's lists in float16 / bfloat16
(or float32); GradScaler scales the loss so float16 gradients neither underflow nor, once
unscaled, corrupt a step. The per-thread state functions (is_autocast_enabled, ...) are at
the top level of taimatsu, as in torch.
"""

from __future__ import annotations

from .autocast_mode import (
    _cast,
    autocast,
    autocast_decorator,
    custom_bwd,
    custom_fwd,
    is_autocast_available,
)
from .grad_scaler import GradScaler, OptState

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]
