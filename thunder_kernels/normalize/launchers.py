"""Launchers of the fused normalization kernels: layout, configuration, launch. No autograd.

Layout: ``dim`` is moved last and the remaining dims are coalesced jointly for input, mask and
output into at most two row dims (``rows_inner`` = size of the inner one). Any ``dim``, any
strides and broadcast masks are thus read in place. Only a tensor whose row dims cannot be
coalesced into two (rare: three or more interleaved non-contiguous dims) is copied first.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import triton

from .. import _alloc
from . import kernels

__all__ = ["normalize_forward", "normalize_backward", "compile_cases"]

MAX_FUSED_LENGTH = 8192  # longest row read once into registers
FUSED_TILE = 4096  # elements per program in the fused kernel (several short rows per program)
SPLIT_BLOCK = 2048  # chunk of a long row
MAX_SEGMENTS = 1024  # most programs one row is split across
TARGET_PROGRAMS = 1024  # enough programs to fill a large GPU several times over

_TRITON_DTYPE = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def _row_layout(
    shape: Sequence[int], axis: int, strides: Sequence[Sequence[int]]
) -> Optional[Tuple[int, List[Tuple[int, int, int]]]]:
    """(rows_inner, [(s0, s1, s_row) per tensor]) or None when more than two row dims remain."""
    merged: List[Tuple[int, List[int]]] = []
    for d in range(len(shape)):
        if d == axis or shape[d] == 1:
            continue
        size, st = shape[d], [s[d] for s in strides]
        if merged and all(prev == cur * size for prev, cur in zip(merged[-1][1], st)):
            merged[-1] = (merged[-1][0] * size, st)
        else:
            merged.append((size, st))
    if len(merged) > 2:
        return None
    while len(merged) < 2:
        merged.insert(0, (1, [0] * len(strides)))
    (_, outer), (inner_size, inner) = merged
    return inner_size, [(outer[i], inner[i], strides[i][axis]) for i in range(len(strides))]


def _mask_operands(x: torch.Tensor, mask, lengths):
    """(MASK_MODE, uint8 mask view broadcast to x (zero strides), int64 lengths)."""
    device = x.device
    dummy_mask = torch.empty((1,) * x.dim(), dtype=torch.uint8, device=device).expand(x.shape)
    dummy_lengths = torch.empty(1, dtype=torch.int64, device=device)
    if lengths is not None:
        return 2, dummy_mask, lengths.to(torch.int64).contiguous()
    if mask is None:
        return 0, dummy_mask, dummy_lengths
    aligned = mask.reshape((1,) * (x.dim() - mask.dim()) + tuple(mask.shape))
    flags = aligned.view(torch.uint8) if aligned.dtype == torch.bool else (aligned != 0).view(torch.uint8)
    return 1, flags.expand(x.shape), dummy_lengths


def _num_rows(shape: Sequence[int], axis: int) -> int:
    rows = 1
    for d, size in enumerate(shape):
        if d != axis:
            rows *= size
    return rows


def _fused_config(row_length: int, num_rows: int) -> Dict[str, int]:
    block_l = max(16, triton.next_power_of_2(row_length))
    block_r = min(triton.next_power_of_2(num_rows), max(1, FUSED_TILE // block_l))
    return dict(BLOCK_R=block_r, BLOCK_L=block_l, num_warps=4 if block_r * block_l <= 2048 else 8)


def _apply_block(row_length: int) -> int:
    return min(SPLIT_BLOCK, max(16, triton.next_power_of_2(row_length)))


def _launch_forward(x, flags, lengths, out, row_stats, mode, axis, div_guard):
    shape = x.shape
    row_length = shape[axis]
    num_rows = _num_rows(shape, axis)
    layout = _row_layout(shape, axis, [x.stride(), flags.stride(), out.stride()])
    if layout is None:
        contiguous_out = torch.empty(shape, dtype=out.dtype, device=out.device)
        _launch_forward(x.contiguous(), flags.contiguous(), lengths, contiguous_out, row_stats, mode, axis, div_guard)
        out.copy_(contiguous_out)
        return
    rows_inner, ((sx0, sx1, sxl), (sm0, sm1, sml), (so0, so1, sol)) = layout
    rows_per_batch = max(1, num_rows // shape[0])
    if row_length <= MAX_FUSED_LENGTH:
        cfg = _fused_config(row_length, num_rows)
        kernels.normalize_rows_kernel[(triton.cdiv(num_rows, cfg["BLOCK_R"]),)](
            x, flags, lengths, out, row_stats,
            num_rows, row_length, rows_inner, rows_per_batch,
            sx0, sx1, sxl, sm0, sm1, sml, so0, so1, sol,
            div_guard,
            BLOCK_R=cfg["BLOCK_R"], BLOCK_L=cfg["BLOCK_L"], MASK_MODE=mode, num_warps=cfg["num_warps"],
        )
        return
    segments = min(MAX_SEGMENTS, max(1, triton.cdiv(TARGET_PROGRAMS, num_rows)), triton.cdiv(row_length, SPLIT_BLOCK))
    segment_length = triton.cdiv(triton.cdiv(row_length, segments), SPLIT_BLOCK) * SPLIT_BLOCK
    segments = triton.cdiv(row_length, segment_length)
    partials = _alloc.empty((num_rows, segments, 3), torch.float32, x.device)
    grid = (num_rows * segments,)
    kernels.normalize_partials_kernel[grid](
        x, flags, lengths, partials,
        num_rows, row_length, rows_inner, rows_per_batch, segments, segment_length,
        sx0, sx1, sxl, sm0, sm1, sml,
        BLOCK_L=SPLIT_BLOCK, MASK_MODE=mode, num_warps=8,
    )
    kernels.normalize_apply_kernel[grid](
        x, flags, lengths, out, partials, row_stats,
        num_rows, row_length, rows_inner, rows_per_batch, segments, segment_length,
        sx0, sx1, sxl, sm0, sm1, sml, so0, so1, sol,
        div_guard,
        BLOCK_L=SPLIT_BLOCK, MAX_SEGMENTS=MAX_SEGMENTS, MASK_MODE=mode, FROM_PARTIALS=True, num_warps=8,
    )


def normalize_forward(x: torch.Tensor, mask, lengths, div_guard: float, axis: int):
    """Normalized ``x`` (same shape, dtype and strides) and per-row ``(mean, scale)`` ``(R, 2)``."""
    out = _alloc.empty_like(x)
    row_stats = _alloc.empty((_num_rows(x.shape, axis), 2), torch.float32, x.device)
    if x.numel() == 0:
        return out, row_stats
    mode, flags, lengths_i64 = _mask_operands(x, mask, lengths)
    _launch_forward(x, flags, lengths_i64, out, row_stats, mode, axis, div_guard)
    return out, row_stats


def normalize_backward(grad: torch.Tensor, row_stats: torch.Tensor, mask, lengths, axis: int) -> torch.Tensor:
    """Gradient for the input: ``grad * scale`` of its row inside the mask, 0 outside."""
    grad_in = _alloc.empty_like(grad)
    if grad.numel() == 0:
        return grad_in
    mode, flags, lengths_i64 = _mask_operands(grad, mask, lengths)
    shape = grad.shape
    layout = _row_layout(shape, axis, [grad.stride(), flags.stride(), grad_in.stride()])
    if layout is None:
        return grad_in.copy_(normalize_backward(grad.contiguous(), row_stats, mask, lengths, axis))
    rows_inner, ((sg0, sg1, sgl), (sm0, sm1, sml), (sd0, sd1, sdl)) = layout
    row_length = shape[axis]
    num_rows = _num_rows(shape, axis)
    block = _apply_block(row_length)
    segment_length = max(block, triton.cdiv(row_length, MAX_SEGMENTS) // block * block)
    segments = triton.cdiv(row_length, segment_length)
    kernels.normalize_apply_kernel[(num_rows * segments,)](
        grad, flags, lengths_i64, grad_in, row_stats, row_stats,
        num_rows, row_length, rows_inner, max(1, num_rows // shape[0]), segments, segment_length,
        sg0, sg1, sgl, sm0, sm1, sml, sd0, sd1, sdl,
        0.0,
        BLOCK_L=block, MAX_SEGMENTS=1, MASK_MODE=mode, FROM_PARTIALS=False, num_warps=4 if block <= 1024 else 8,
    )
    return grad_in


def compile_cases() -> List[Tuple[str, Dict[str, str], Dict[str, object], int]]:
    """Every kernel and constexpr flag the launchers can launch, per dtype; block sizes at the
    smallest, a middle and the largest value the launchers pick."""
    cases = []
    ints = lambda *names: {n: "i32" for n in names}  # noqa: E731
    stride_names = lambda p: (f"{p}0", f"{p}1", f"{p}l")  # noqa: E731
    for dtype, tdt in _TRITON_DTYPE.items():
        for mode in (0, 1, 2):
            for row_length, num_rows in ((9, 1 << 20), (1000, 1 << 20), (MAX_FUSED_LENGTH, 64)):
                cfg = _fused_config(row_length, num_rows)
                sig = {"x_ptr": f"*{tdt}", "mask_ptr": "*u8", "lengths_ptr": "*i64", "out_ptr": f"*{tdt}",
                       "row_stats_ptr": "*fp32",
                       **ints("num_rows", "row_length", "rows_inner", "rows_per_batch",
                              *stride_names("sx"), *stride_names("sm"), *stride_names("so")),
                       "div_guard": "fp32"}
                cases.append(("normalize_rows_kernel", sig,
                              dict(BLOCK_R=cfg["BLOCK_R"], BLOCK_L=cfg["BLOCK_L"], MASK_MODE=mode), cfg["num_warps"]))
            sig = {"x_ptr": f"*{tdt}", "mask_ptr": "*u8", "lengths_ptr": "*i64", "partials_ptr": "*fp32",
                   **ints("num_rows", "row_length", "rows_inner", "rows_per_batch", "num_segments",
                          "segment_length", *stride_names("sx"), *stride_names("sm"))}
            cases.append(("normalize_partials_kernel", sig, dict(BLOCK_L=SPLIT_BLOCK, MASK_MODE=mode), 8))
            apply_sig = {"src_ptr": f"*{tdt}", "mask_ptr": "*u8", "lengths_ptr": "*i64", "dst_ptr": f"*{tdt}",
                         "partials_ptr": "*fp32", "row_stats_ptr": "*fp32",
                         **ints("num_rows", "row_length", "rows_inner", "rows_per_batch", "num_segments",
                                "segment_length", *stride_names("ss"), *stride_names("sm"), *stride_names("sd")),
                         "div_guard": "fp32"}
            cases.append(("normalize_apply_kernel", apply_sig,
                          dict(BLOCK_L=SPLIT_BLOCK, MAX_SEGMENTS=MAX_SEGMENTS, MASK_MODE=mode, FROM_PARTIALS=True), 8))
            for block in (16, SPLIT_BLOCK):
                cases.append(("normalize_apply_kernel", apply_sig,
                              dict(BLOCK_L=block, MAX_SEGMENTS=1, MASK_MODE=mode, FROM_PARTIALS=False),
                              4 if block <= 1024 else 8))
    return cases
