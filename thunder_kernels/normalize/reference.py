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


def normalize_parts(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """The normalized tensor (no autograd), the per-row scale ``d out / d x`` and the invalid mask.

    One buffer, updated in place: the eager product's forward. ``scale`` is ``1/(std+guard)``
    (0 for a row with no valid element) or ``1/sqrt(var+guard)``; ``invalid`` is ``None`` unmasked.
    """
    axis = check_normalize_args(input_values, mask, div_guard, dim, lengths)
    values = input_values.detach().to(_statistics_dtype(input_values.dtype))
    if mask is None and lengths is None:
        var, mean = torch.var_mean(values, dim=axis, keepdim=True)
        scale = torch.rsqrt(var + div_guard)
        return ((values - mean).mul_(scale)).to(input_values.dtype), scale, None
    valid = valid_mask(input_values, mask, axis, lengths)
    count = valid.sum(dim=axis, keepdim=True)
    if valid.shape[axis] == 1:
        count = count * input_values.shape[axis]
    count = count.to(values.dtype)
    invalid = ~valid
    centred = values.masked_fill(invalid, 0.0)
    mean = centred.sum(dim=axis, keepdim=True) / count
    # Masked-out positions hold 0 - mean here, which is exactly the seed's numerator.
    centred.sub_(mean)
    # sum() accumulates pairwise; linalg.vector_norm on CPU loses ~1e-5 on long rows.
    std = ((centred * centred).sum(dim=axis, keepdim=True) / count).sqrt()
    # A row with no valid element has NaN statistics; a zero scale keeps NaN out of its gradient.
    scale = torch.where(count > 0, 1.0 / (std + div_guard), torch.zeros_like(std))
    out = centred.mul_(scale).masked_fill_(invalid, 0.0)
    return out.to(input_values.dtype), scale, invalid


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
    if not input_values.requires_grad:
        return normalize_parts(input_values, mask, div_guard, dim, lengths)[0]
    axis = check_normalize_args(input_values, mask, div_guard, dim, lengths)
    values = input_values.to(_statistics_dtype(input_values.dtype))
    _, scale, invalid = normalize_parts(input_values, mask, div_guard, dim, lengths)
    if invalid is None:
        mean = values.detach().mean(dim=axis, keepdim=True)
        return ((values - mean) * scale).to(input_values.dtype)
    valid = ~invalid
    count = valid.sum(dim=axis, keepdim=True)
    if valid.shape[axis] == 1:
        count = count * input_values.shape[axis]
    mean = values.detach().masked_fill(invalid, 0.0).sum(dim=axis, keepdim=True) / count.to(values.dtype)
    return ((values - mean) * scale).masked_fill(invalid, 0.0).to(input_values.dtype)


class NormalizeFunction(torch.autograd.Function):
    """Eager autograd for the pure-torch path: in-place forward, backward from the saved scale."""

    @staticmethod
    def forward(ctx, input_values, mask, div_guard, dim, lengths):
        out, scale, invalid = normalize_parts(input_values, mask, div_guard, dim, lengths)
        ctx.save_for_backward(scale, invalid)
        ctx.input_dtype = input_values.dtype
        return out

    @staticmethod
    def backward(ctx, grad_out):
        scale, invalid = ctx.saved_tensors
        grad = grad_out.to(scale.dtype) * scale
        if invalid is not None:
            grad = grad.masked_fill_(invalid, 0.0)
        return grad.to(ctx.input_dtype), None, None, None, None
