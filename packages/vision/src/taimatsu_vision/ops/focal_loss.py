"""Sigmoid focal loss (Lin et al., RetinaNet, 2017), composed of taimatsu ops."""

from __future__ import annotations

from taimatsu import Tensor
from taimatsu.nn import functional as F

__all__ = ["sigmoid_focal_loss"]


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25,
                       gamma: float = 2, reduction: str = "none") -> Tensor:
    """Binary cross-entropy on logits scaled by (1 - p_t) ** gamma, which down-weights the
    easy examples, and by alpha_t (alpha for positives, 1 - alpha for negatives; alpha < 0
    turns it off).

    Args:
        inputs: logits of any shape
        targets: same shape, 0 for negatives and 1 for positives (soft labels work too)
        reduction: "none", "mean" or "sum"
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported "
                         "reduction modes: 'none', 'mean', 'sum'")
    p = inputs.sigmoid()
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
