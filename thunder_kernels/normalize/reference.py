"""Pure-torch masked/unmasked normalization with thunder.blocks 3.2.0's exact semantics.

Masked (``mask`` or ``lengths`` given), per row along ``dim``:
    count = valid elements; mean = sum(valid x) / count
    std   = sqrt(sum over ALL positions of (x0 - mean)^2 / count), x0 = x zero-filled outside
            the mask (the seed's quirk: masked-out positions add mean^2 each; trained models
            depend on it)
    out   = (x - mean) / (std + div_guard) inside the mask, 0 outside.
Unmasked: out = (x - mean) / sqrt(var + div_guard), var unbiased (``torch.var``).
Mean and std are detached, as in the seed. Statistics are computed in float32 for half inputs;
the output has the input's dtype. The function scripts and exports.
"""

from typing import List, Optional, Tuple

import torch
from torch import Tensor

from .._dispatch import capturing_graph

__all__ = ["NormalizeFunction", "check_normalize_args", "normalize_parts", "normalize_reference", "valid_mask"]


def check_normalize_args(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> int:
    """Validate the arguments of ``normalize_tensor``; scriptable.

    Returns:
        ``dim`` as a non-negative index.

    Raises:
        TypeError: non-floating input, complex mask, bool or complex lengths.
        ValueError: bad ``dim``, ``div_guard``, shapes, devices, or both ``mask`` and ``lengths``.
    """
    if not input_values.is_floating_point():
        raise TypeError(
            "normalize_tensor: input_values must be a real floating tensor, got "
            + str(input_values.dtype) + "; convert it with .float()"
        )
    ndim = input_values.dim()
    if ndim == 0:
        raise ValueError("normalize_tensor: input_values must have at least one dimension")
    if dim < -ndim or dim >= ndim:
        raise ValueError(
            "normalize_tensor: dim=" + str(dim) + " is out of range for a "
            + str(ndim) + "-d input (valid: " + str(-ndim) + " to " + str(ndim - 1) + ")"
        )
    axis = dim + ndim if dim < 0 else dim
    if div_guard != div_guard or div_guard < 0.0 or div_guard == float("inf"):
        raise ValueError(
            "normalize_tensor: div_guard must be a finite number >= 0, got " + str(div_guard)
        )
    if mask is not None and lengths is not None:
        raise ValueError(
            "normalize_tensor: pass either mask or lengths, not both "
            "(lengths=l is the same as mask=lengths_to_mask(l, T) along dim)"
        )
    if mask is not None:
        if mask.is_complex():
            raise TypeError("normalize_tensor: mask must be bool, integer or real, got " + str(mask.dtype))
        if mask.device != input_values.device:
            raise ValueError(
                "normalize_tensor: mask is on " + str(mask.device) + " but input_values is on "
                + str(input_values.device) + "; move the mask with .to(input_values.device)"
            )
        offset = ndim - mask.dim()
        broadcastable = offset >= 0
        if broadcastable:
            for i in range(mask.dim()):
                size = mask.shape[i]
                if size != 1 and size != input_values.shape[i + offset]:
                    broadcastable = False
        if not broadcastable:
            raise ValueError(
                "normalize_tensor: mask of shape " + str(list(mask.shape))
                + " does not broadcast to input_values of shape " + str(list(input_values.shape))
                + " (each mask dimension, aligned from the right, must be 1 or equal)"
            )
    if lengths is not None:
        if lengths.dtype == torch.bool or lengths.is_complex():
            raise TypeError(
                "normalize_tensor: lengths must be an integer or real tensor, got " + str(lengths.dtype)
            )
        if ndim < 2 or axis == 0:
            raise ValueError(
                "normalize_tensor: lengths counts valid elements along dim for each batch element "
                "(dim 0), so it needs a batched input and dim != 0; got a " + str(ndim)
                + "-d input with dim=" + str(dim)
            )
        if lengths.dim() != 1 or lengths.shape[0] != input_values.shape[0]:
            raise ValueError(
                "normalize_tensor: lengths must have shape (" + str(input_values.shape[0])
                + ",), one length per batch element, got " + str(list(lengths.shape))
            )
        if lengths.device != input_values.device:
            raise ValueError(
                "normalize_tensor: lengths is on " + str(lengths.device) + " but input_values is on "
                + str(input_values.device) + "; move it with .to(input_values.device)"
            )
    return axis


def valid_mask(
    input_values: Tensor, mask: Optional[Tensor], axis: int, lengths: Optional[Tensor]
) -> Tensor:
    """A bool tensor with the input's number of dims, broadcastable to it; True = valid."""
    ndim = input_values.dim()
    if lengths is not None:
        length_shape: List[int] = [1] * ndim
        length_shape[0] = input_values.shape[0]
        position_shape: List[int] = [1] * ndim
        position_shape[axis] = input_values.shape[axis]
        positions = torch.arange(
            input_values.shape[axis], device=input_values.device
        ).reshape(position_shape)
        # .to(int64) truncates toward zero, as thunder's lengths_to_mask does with float lengths.
        return positions < lengths.to(torch.int64).reshape(length_shape)
    assert mask is not None
    aligned: List[int] = [1] * (ndim - mask.dim()) + list(mask.shape)
    return mask.reshape(aligned) != 0


def _statistics_dtype(dtype: torch.dtype) -> torch.dtype:
    if dtype == torch.float16 or dtype == torch.bfloat16:
        return torch.float32
    return dtype


def _sum_of_squares(values: Tensor, axis: int, piece: int = 4096) -> Tensor:
    """``(values ** 2).sum(axis, keepdim=True)`` without a full-size temporary where it can.

    ``vector_norm`` reads once and writes nothing, but accumulates each row sequentially per
    lane (~8e-6 relative on a 480k row in float32), so rows longer than ``piece`` are summed
    as norms of ``piece``-long pieces (~1e-7). Off the contiguous axis it is slower than a product
    and a pairwise sum, which is used there instead.
    """
    if values.stride(axis) != 1:
        return (values * values).sum(dim=axis, keepdim=True)
    length = values.shape[axis]
    if length <= piece:
        return torch.linalg.vector_norm(values, dim=axis, keepdim=True).square()
    whole = length // piece * piece
    pieces = values.narrow(axis, 0, whole).unfold(axis, piece, piece)
    total = torch.linalg.vector_norm(pieces, dim=-1).square().sum(dim=axis, keepdim=True)
    if whole < length:
        tail = values.narrow(axis, whole, length - whole)
        total = total + torch.linalg.vector_norm(tail, dim=axis, keepdim=True).square()
    return total


@torch.jit.unused
def _zero_invalid(valid: Tensor, values: Tensor, zero: Tensor) -> Tensor:
    """``where(valid, values, zero)``, in place unless a graph is being recorded (exporters
    reject ``out=``)."""
    if capturing_graph():
        return torch.where(valid, values, zero)
    return torch.where(valid, values, zero, out=values)


def normalize_parts(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """The normalized tensor (no autograd), the per-row scale ``d out / d x`` and the valid mask.

    One full-size buffer (the output), updated in place: the eager product's forward. ``scale``
    is ``1/(std+guard)`` (0 for a row with no valid element) or ``1/sqrt(var+guard)``; ``valid``
    is a bool tensor broadcastable to the input, ``None`` unmasked.
    """
    axis = check_normalize_args(input_values, mask, div_guard, dim, lengths)
    stats_dtype = _statistics_dtype(input_values.dtype)
    values = input_values.detach().to(stats_dtype)
    length = input_values.shape[axis]
    if mask is None and lengths is None:
        mean = values.sum(dim=axis, keepdim=True) / length
        out = values - mean
        # Unbiased, as torch.var: a single-element row divides 0 by 0 (NaN), like the seed.
        scale = torch.rsqrt(_sum_of_squares(out, axis) / (length - 1) + div_guard)
        return out.mul_(scale).to(input_values.dtype), scale, None
    valid = valid_mask(input_values, mask, axis, lengths)
    count = valid.sum(dim=axis, keepdim=True)
    if valid.shape[axis] == 1:
        count = count * length
    count = count.to(stats_dtype)
    has_valid = count > 0
    zero = torch.zeros((), dtype=stats_dtype, device=values.device)
    # A select, not a product with the mask: inf/NaN in the padding must not reach the sums.
    out = torch.where(valid, values, zero)
    mean = torch.where(has_valid, out.sum(dim=axis, keepdim=True) / count, zero)
    # Shift only the valid positions; the seed's numerator also has (0 - mean)^2 for each
    # masked-out position, added in closed form: more accurate than summing them.
    out.addcmul_(valid.to(stats_dtype), mean, value=-1.0)
    masked_out = length - count
    numerator = _sum_of_squares(out, axis) + masked_out * mean * mean
    std = (numerator / count).sqrt()
    # A row with no valid element has no statistics; a zero scale keeps NaN out of its gradient.
    scale = torch.where(has_valid, 1.0 / (std + div_guard), zero)
    out.mul_(scale)
    # The padding is exactly 0 unless the row's statistics are not finite (inf/NaN inside the
    # valid region): the seed's output is 0 there too, so select once more.
    if torch.jit.is_scripting():
        out = torch.where(valid, out, zero)
    else:
        out = _zero_invalid(valid, out, zero)
    return out.to(input_values.dtype), scale, valid


def normalize_reference(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> Tensor:
    """Normalize ``input_values`` along ``dim``; same arguments as ``normalize_tensor``.

    Autograd-friendly plain ops (the script/export path); without autograd it is
    ``normalize_parts``.
    """
    out, scale, valid = normalize_parts(input_values, mask, div_guard, dim, lengths)
    if not input_values.requires_grad:
        return out
    # Statistics are detached, so d out / d x = scale: the added term is exactly zero in value
    # and carries that gradient.
    values = input_values.to(_statistics_dtype(input_values.dtype))
    traced = out.to(scale.dtype) + (values - values.detach()) * scale
    if valid is not None:
        zero = torch.zeros((), dtype=scale.dtype, device=scale.device)
        traced = torch.where(valid, traced, zero)
    return traced.to(input_values.dtype)


class NormalizeFunction(torch.autograd.Function):
    """Eager autograd for the pure-torch path: in-place forward, backward from the saved scale."""

    @staticmethod
    def forward(ctx, input_values, mask, div_guard, dim, lengths):
        out, scale, valid = normalize_parts(input_values, mask, div_guard, dim, lengths)
        ctx.save_for_backward(scale, valid)
        ctx.input_dtype = input_values.dtype
        return out

    @staticmethod
    def backward(ctx, grad_out):
        scale, valid = ctx.saved_tensors
        grad = grad_out.to(scale.dtype) * scale
        if valid is not None:
            zero = torch.zeros((), dtype=scale.dtype, device=scale.device)
            grad = _zero_invalid(valid, grad, zero)
        return grad.to(ctx.input_dtype), None, None, None, None
