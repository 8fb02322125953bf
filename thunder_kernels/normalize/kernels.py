"""Triton kernels of the fused masked/unmasked normalization.

Rows are addressed through strides: the launcher moves ``dim`` last and coalesces the other dims
into at most two, so a row ``r`` starts at ``(r // rows_inner) * s0 + (r % rows_inner) * s1`` and
its elements are ``s_l`` apart. Input, mask and output each carry their own strides; a broadcast
mask has zero strides and is never materialised.

MASK_MODE: 0 = no mask (unbiased variance, guard inside the sqrt); 1 = uint8 mask tensor;
2 = one int64 length per batch element (rows ``r // rows_per_batch`` share it).

* ``normalize_rows_kernel``: rows that fit in registers: one read, statistics, one write.
* ``normalize_partials_kernel`` + ``normalize_apply_kernel``: long rows split across programs.
  Each program writes (count, mean, M2) of its segment; every program of the row then combines
  all the row's partials in the same fixed order (deterministic, no atomics) and normalizes its
  segment. The apply kernel also serves the backward, which scales by the saved 1/std.
"""

import triton
import triton.language as tl


@triton.jit
def _row_offsets(rows, rows_inner, stride0, stride1):
    return (rows // rows_inner).to(tl.int64) * stride0 + (rows % rows_inner).to(tl.int64) * stride1


@triton.jit
def _validity(mask_ptr, mask_rows, lengths_ptr, rows, rows_per_batch, cols, in_tile, stride_ml, MASK_MODE: tl.constexpr):
    # mask_rows, rows: (BLOCK_R,); cols: (BLOCK_L,); in_tile: (BLOCK_R, BLOCK_L)
    if MASK_MODE == 1:
        flags = tl.load(mask_ptr + mask_rows[:, None] + cols.to(tl.int64)[None, :] * stride_ml, mask=in_tile, other=0)
        return in_tile & (flags != 0)
    elif MASK_MODE == 2:
        lengths = tl.load(lengths_ptr + rows // rows_per_batch, mask=rows >= 0, other=0)
        return in_tile & (cols[None, :] < lengths[:, None])
    else:
        return in_tile


@triton.jit
def _row_shift_scale(count, total, m2, row_length, div_guard, MASK_MODE: tl.constexpr):
    # count, total, m2: (BLOCK_R,) fp32; m2 = sum over valid elements of (x - mean)^2.
    mean = total / count
    if MASK_MODE == 0:
        var = m2 / (row_length - 1)
        scale = 1.0 / tl.sqrt_rn(var + div_guard)
    else:
        # The seed's std: masked-out positions count as zeros, each adding mean^2.
        numerator = m2 + (row_length - count) * mean * mean
        std = tl.sqrt_rn(numerator / count)
        # A row without valid elements is all zeros; a zero scale keeps NaN out of its gradient.
        scale = tl.where(count > 0, 1.0 / (std + div_guard), 0.0)
    return mean, scale


@triton.jit
def normalize_rows_kernel(
    x_ptr,  # (R, L) input dtype, strides (sx0, sx1) over the two row dims, sxl along the row
    mask_ptr,  # (R, L) uint8 with strides (sm0, sm1, sml), zero where broadcast; unused unless MASK_MODE 1
    lengths_ptr,  # (B,) int64; unused unless MASK_MODE 2
    out_ptr,  # (R, L) input dtype, strides (so0, so1, sol)
    row_stats_ptr,  # (R, 2) fp32 contiguous: (mean, scale) for the backward
    num_rows,
    row_length,
    rows_inner,
    rows_per_batch,
    sx0, sx1, sxl,
    sm0, sm1, sml,
    so0, so1, sol,
    div_guard,
    BLOCK_R: tl.constexpr,
    BLOCK_L: tl.constexpr,
    MASK_MODE: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.arange(0, BLOCK_L)
    row_ok = rows < num_rows
    in_tile = row_ok[:, None] & (cols < row_length)[None, :]
    x_rows = _row_offsets(rows, rows_inner, sx0, sx1)
    x = tl.load(x_ptr + x_rows[:, None] + cols.to(tl.int64)[None, :] * sxl, mask=in_tile, other=0.0).to(tl.float32)
    valid = _validity(mask_ptr, _row_offsets(rows, rows_inner, sm0, sm1), lengths_ptr, rows, rows_per_batch,
                      cols, in_tile, sml, MASK_MODE)

    count = tl.sum(valid.to(tl.float32), axis=1)
    total = tl.sum(tl.where(valid, x, 0.0), axis=1)
    # Two passes over registers: the centred sum of squares, not E[x^2] - mean^2.
    centred = tl.where(valid, x - (total / count)[:, None], 0.0)
    m2 = tl.sum(centred * centred, axis=1)
    mean, scale = _row_shift_scale(count, total, m2, row_length, div_guard, MASK_MODE)

    out = tl.where(valid, (x - mean[:, None]) * scale[:, None], 0.0)
    out_rows = _row_offsets(rows, rows_inner, so0, so1)
    tl.store(out_ptr + out_rows[:, None] + cols.to(tl.int64)[None, :] * sol,
             out.to(out_ptr.dtype.element_ty), mask=in_tile)
    tl.store(row_stats_ptr + rows.to(tl.int64) * 2, mean, mask=row_ok)
    tl.store(row_stats_ptr + rows.to(tl.int64) * 2 + 1, scale, mask=row_ok)


@triton.jit
def normalize_partials_kernel(
    x_ptr,  # (R, L) input dtype, strides (sx0, sx1, sxl)
    mask_ptr,  # (R, L) uint8, strides (sm0, sm1, sml); unused unless MASK_MODE 1
    lengths_ptr,  # (B,) int64; unused unless MASK_MODE 2
    partials_ptr,  # (R, S, 3) fp32 contiguous: (count, sum, M2) of each segment
    num_rows,
    row_length,
    rows_inner,
    rows_per_batch,
    num_segments,
    segment_length,
    sx0, sx1, sxl,
    sm0, sm1, sml,
    BLOCK_L: tl.constexpr,
    MASK_MODE: tl.constexpr,
):
    pid = tl.program_id(0)
    row = pid // num_segments
    segment = pid % num_segments
    rows = row + tl.arange(0, 1)
    x_row = _row_offsets(rows, rows_inner, sx0, sx1)
    mask_row = _row_offsets(rows, rows_inner, sm0, sm1)
    start = segment * segment_length
    end = tl.minimum(start + segment_length, row_length)

    count = tl.zeros((1,), dtype=tl.float32)
    mean = tl.zeros((1,), dtype=tl.float32)
    m2 = tl.zeros((1,), dtype=tl.float32)
    for chunk in range(start, end, BLOCK_L):
        cols = chunk + tl.arange(0, BLOCK_L)
        in_tile = (rows < num_rows)[:, None] & (cols < end)[None, :]
        x = tl.load(x_ptr + x_row[:, None] + cols.to(tl.int64)[None, :] * sxl, mask=in_tile, other=0.0).to(tl.float32)
        valid = _validity(mask_ptr, mask_row, lengths_ptr, rows, rows_per_batch, cols, in_tile, sml, MASK_MODE)
        chunk_count = tl.sum(valid.to(tl.float32), axis=1)
        chunk_mean = tl.sum(tl.where(valid, x, 0.0), axis=1) / tl.maximum(chunk_count, 1.0)
        dev = tl.where(valid, x - chunk_mean[:, None], 0.0)
        chunk_m2 = tl.sum(dev * dev, axis=1)
        # Chan et al.'s pairwise merge of (count, mean, M2): stable for long rows.
        merged = count + chunk_count
        delta = chunk_mean - mean
        mean += delta * chunk_count / tl.maximum(merged, 1.0)
        m2 += chunk_m2 + delta * delta * count * chunk_count / tl.maximum(merged, 1.0)
        count = merged
    base = partials_ptr + pid.to(tl.int64) * 3 + tl.arange(0, 1)
    tl.store(base, count)
    tl.store(base + 1, mean * count)
    tl.store(base + 2, m2)


@triton.jit
def normalize_apply_kernel(
    src_ptr,  # (R, L) input dtype: x (forward) or the output's gradient (backward); strides (ss0, ss1, ssl)
    mask_ptr,  # (R, L) uint8, strides (sm0, sm1, sml); unused unless MASK_MODE 1
    lengths_ptr,  # (B,) int64; unused unless MASK_MODE 2
    dst_ptr,  # (R, L) input dtype, strides (sd0, sd1, sdl)
    partials_ptr,  # (R, S, 3) fp32: read when FROM_PARTIALS
    row_stats_ptr,  # (R, 2) fp32 (mean, scale): written when FROM_PARTIALS, read otherwise
    num_rows,
    row_length,
    rows_inner,
    rows_per_batch,
    num_segments,
    segment_length,
    ss0, ss1, ssl,
    sm0, sm1, sml,
    sd0, sd1, sdl,
    div_guard,
    BLOCK_L: tl.constexpr,
    MAX_SEGMENTS: tl.constexpr,
    MASK_MODE: tl.constexpr,
    FROM_PARTIALS: tl.constexpr,
):
    pid = tl.program_id(0)
    row = pid // num_segments
    segment = pid % num_segments
    rows = row + tl.arange(0, 1)
    if FROM_PARTIALS:
        # Every program of the row combines the same partials in the same order.
        seg = tl.arange(0, MAX_SEGMENTS)
        seg_ok = seg < num_segments
        base = partials_ptr + row.to(tl.int64) * num_segments * 3 + seg * 3
        seg_count = tl.load(base, mask=seg_ok, other=0.0)
        seg_sum = tl.load(base + 1, mask=seg_ok, other=0.0)
        seg_m2 = tl.load(base + 2, mask=seg_ok, other=0.0)
        count = tl.sum(seg_count, axis=0)
        total = tl.sum(seg_sum, axis=0)
        row_mean = total / count
        seg_mean = seg_sum / tl.maximum(seg_count, 1.0)
        shift = tl.where(seg_count > 0, seg_mean - row_mean, 0.0)
        m2 = tl.sum(seg_m2 + seg_count * shift * shift, axis=0)
        mean, scale = _row_shift_scale(count + tl.zeros((1,), tl.float32), total + tl.zeros((1,), tl.float32),
                                       m2 + tl.zeros((1,), tl.float32), row_length, div_guard, MASK_MODE)
        first = (rows < num_rows) & ((rows * 0 + segment) == 0)
        tl.store(row_stats_ptr + rows.to(tl.int64) * 2, mean, mask=first)
        tl.store(row_stats_ptr + rows.to(tl.int64) * 2 + 1, scale, mask=first)
    else:
        # Backward: d out / d x = scale inside the mask (statistics are constants), 0 outside.
        mean = tl.zeros((1,), dtype=tl.float32)
        scale = tl.load(row_stats_ptr + rows.to(tl.int64) * 2 + 1)

    src_row = _row_offsets(rows, rows_inner, ss0, ss1)
    mask_row = _row_offsets(rows, rows_inner, sm0, sm1)
    dst_row = _row_offsets(rows, rows_inner, sd0, sd1)
    start = segment * segment_length
    end = tl.minimum(start + segment_length, row_length)
    for chunk in range(start, end, BLOCK_L):
        cols = chunk + tl.arange(0, BLOCK_L)
        in_tile = (rows < num_rows)[:, None] & (cols < end)[None, :]
        src = tl.load(src_ptr + src_row[:, None] + cols.to(tl.int64)[None, :] * ssl, mask=in_tile, other=0.0).to(tl.float32)
        valid = _validity(mask_ptr, mask_row, lengths_ptr, rows, rows_per_batch, cols, in_tile, sml, MASK_MODE)
        out = tl.where(valid, (src - mean[:, None]) * scale[:, None], 0.0)
        tl.store(dst_ptr + dst_row[:, None] + cols.to(tl.int64)[None, :] * sdl,
                 out.to(dst_ptr.dtype.element_ty), mask=in_tile)
