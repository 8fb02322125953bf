"""``torch.library`` ops and autograd for the fused normalization, and the API's entry point.

The forward op returns the output and the per-row ``(mean, scale)`` it saves; the backward op
needs only those scalars (statistics are detached, as in thunder), the mask or lengths, and the
upstream gradient.
"""

from typing import Optional, Tuple

import torch
from torch import Tensor

from . import launchers
from .reference import normalize_reference

__all__ = ["normalize_triton"]


@torch.library.custom_op("thunder_kernels::normalize", mutates_args=())
def normalize_op(
    x: Tensor, mask: Optional[Tensor], lengths: Optional[Tensor], div_guard: float, dim: int
) -> Tuple[Tensor, Tensor]:
    return launchers.normalize_forward(x, mask, lengths, div_guard, dim)


@normalize_op.register_fake
def _normalize_fake(x, mask, lengths, div_guard, dim):
    rows = 1
    for d, size in enumerate(x.shape):
        if d != dim:
            rows *= size
    return torch.empty_like(x), x.new_empty((rows, 2), dtype=torch.float32)


@torch.library.custom_op("thunder_kernels::normalize_backward", mutates_args=())
def normalize_backward_op(
    grad: Tensor, row_stats: Tensor, mask: Optional[Tensor], lengths: Optional[Tensor], dim: int
) -> Tensor:
    return launchers.normalize_backward(grad, row_stats, mask, lengths, dim)


@normalize_backward_op.register_fake
def _normalize_backward_fake(grad, row_stats, mask, lengths, dim):
    return torch.empty_like(grad)


def _setup_context(ctx, inputs, output):
    x, mask, lengths, div_guard, dim = inputs
    _, row_stats = output
    ctx.mark_non_differentiable(row_stats)
    ctx.save_for_backward(row_stats, mask, lengths)
    ctx.dim = dim


def _backward(ctx, grad_out, grad_row_stats):
    row_stats, mask, lengths = ctx.saved_tensors
    grad_in = normalize_backward_op(grad_out, row_stats, mask, lengths, ctx.dim)
    return grad_in, None, None, None, None


normalize_op.register_autograd(_backward, setup_context=_setup_context)


def normalize_triton(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> Tensor:
    """Fused-kernel normalization with the public function's arguments (already checked).

    float64 runs through the pure-torch path: the kernels compute statistics in fp32.
    """
    if input_values.dtype == torch.float64:
        return normalize_reference(input_values, mask, div_guard, dim, lengths)
    axis = dim % input_values.dim()
    out, _ = normalize_op(input_values, mask, lengths, div_guard, axis)
    return out
