"""Differentiable operations, one family per module; importing attaches Tensor methods."""
