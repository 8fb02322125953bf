"""Triton kernels of the fused STFT.

Forward: one program computes a (BLOCK_F bins x BLOCK_T frames) tile of the spectrum as two
``tl.dot`` GEMMs (real and imaginary basis rows against the frames), with the frames gathered
straight from the unpadded signal: reflect padding is index arithmetic, never a copy. The tile is
written once, real and imaginary interleaved, in the final ``(B, F, frames, 2)`` layout.

Backward (gradient for the signal), deterministic and without atomics:
1. ``stft_backward_frames_kernel``: d loss / d frame samples, a GEMM of the spectrum gradient
   against the basis, ``(B, frames, win_length)`` in fp32;
2. ``stft_backward_overlap_add_kernel``: every signal sample gathers the frame samples it fed
   (at most ceil(win_length / hop) of them), plus those of its reflected copies in the padding.
"""

import triton
import triton.language as tl


@triton.jit
def _reflect(pos, num_samples):
    # One reflection suffices: padding is < num_samples (checked by the caller).
    pos = tl.where(pos < 0, -pos, pos)
    return tl.where(pos >= num_samples, 2 * (num_samples - 1) - pos, pos)


@triton.jit
def stft_forward_kernel(
    signal_ptr,  # (B, T) input dtype, strides (stride_sb, stride_st)
    basis_ptr,  # (2, F, K) input dtype, contiguous: windowed cos rows, then -sin rows
    out_ptr,  # (B, F, frames, 2) input dtype, contiguous
    num_samples,  # T
    num_bins,  # F = n_fft // 2 + 1
    win_length,  # K: the window's support inside each n_fft frame
    num_frames,
    hop_length,
    first_sample,  # signal index of frame 0's first windowed sample: left - pad (may be < 0)
    stride_sb,
    stride_st,
    BLOCK_F: tl.constexpr,
    BLOCK_T: tl.constexpr,
    BLOCK_K: tl.constexpr,
    PRECISION: tl.constexpr,
):
    # Bin tiles vary fastest so the programs sharing a block of frames run together (L2 reuse).
    pid = tl.program_id(0)
    num_f_tiles = tl.cdiv(num_bins, BLOCK_F)
    num_t_tiles = tl.cdiv(num_frames, BLOCK_T)
    f_tile = pid % num_f_tiles
    t_tile = (pid // num_f_tiles) % num_t_tiles
    batch = pid // (num_f_tiles * num_t_tiles)

    offs_f = f_tile * BLOCK_F + tl.arange(0, BLOCK_F)
    offs_t = t_tile * BLOCK_T + tl.arange(0, BLOCK_T)
    f_ok = offs_f < num_bins
    t_ok = offs_t < num_frames
    signal_row = signal_ptr + batch.to(tl.int64) * stride_sb
    frame_start = offs_t * hop_length + first_sample

    acc_re = tl.zeros((BLOCK_F, BLOCK_T), dtype=tl.float32)
    acc_im = tl.zeros((BLOCK_F, BLOCK_T), dtype=tl.float32)
    for k0 in range(0, win_length, BLOCK_K):
        offs_k = k0 + tl.arange(0, BLOCK_K)
        k_ok = offs_k < win_length
        basis_offs = offs_f[:, None] * win_length + offs_k[None, :]
        basis_mask = f_ok[:, None] & k_ok[None, :]
        basis_re = tl.load(basis_ptr + basis_offs, mask=basis_mask, other=0.0)
        basis_im = tl.load(basis_ptr + num_bins * win_length + basis_offs, mask=basis_mask, other=0.0)
        pos = _reflect(frame_start[None, :] + offs_k[:, None], num_samples)
        frames = tl.load(
            signal_row + pos.to(tl.int64) * stride_st,
            mask=k_ok[:, None] & t_ok[None, :],
            other=0.0,
        )
        acc_re = tl.dot(basis_re, frames, acc_re, input_precision=PRECISION)
        acc_im = tl.dot(basis_im, frames, acc_im, input_precision=PRECISION)

    pair = tl.join(acc_re, acc_im).to(out_ptr.dtype.element_ty)  # (BLOCK_F, BLOCK_T, 2)
    out_row = out_ptr + batch.to(tl.int64) * num_bins * num_frames * 2
    out_offs = (
        offs_f.to(tl.int64)[:, None, None] * (num_frames * 2)
        + offs_t[None, :, None] * 2
        + tl.arange(0, 2)[None, None, :]
    )
    out_mask = (f_ok[:, None] & t_ok[None, :])[:, :, None]
    tl.store(out_row + out_offs, pair, mask=out_mask)


@triton.jit
def stft_backward_frames_kernel(
    grad_ptr,  # (B, F, frames, 2) input dtype, strides (stride_gb, stride_gf, stride_gt, stride_gc)
    basis_ptr,  # (2, F, K) input dtype, contiguous
    frames_grad_ptr,  # (B, frames, K) fp32, contiguous
    num_bins,
    win_length,
    num_frames,
    stride_gb,
    stride_gf,
    stride_gt,
    stride_gc,
    BLOCK_T: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_F: tl.constexpr,
    PRECISION: tl.constexpr,
):
    pid = tl.program_id(0)
    num_k_tiles = tl.cdiv(win_length, BLOCK_K)
    num_t_tiles = tl.cdiv(num_frames, BLOCK_T)
    k_tile = pid % num_k_tiles
    t_tile = (pid // num_k_tiles) % num_t_tiles
    batch = pid // (num_k_tiles * num_t_tiles)

    offs_t = t_tile * BLOCK_T + tl.arange(0, BLOCK_T)
    offs_k = k_tile * BLOCK_K + tl.arange(0, BLOCK_K)
    t_ok = offs_t < num_frames
    k_ok = offs_k < win_length
    grad_row = grad_ptr + batch.to(tl.int64) * stride_gb

    acc = tl.zeros((BLOCK_T, BLOCK_K), dtype=tl.float32)
    for f0 in range(0, num_bins, BLOCK_F):
        offs_f = f0 + tl.arange(0, BLOCK_F)
        f_ok = offs_f < num_bins
        grad_offs = offs_t.to(tl.int64)[:, None] * stride_gt + offs_f.to(tl.int64)[None, :] * stride_gf
        grad_mask = t_ok[:, None] & f_ok[None, :]
        grad_re = tl.load(grad_row + grad_offs, mask=grad_mask, other=0.0)
        grad_im = tl.load(grad_row + grad_offs + stride_gc, mask=grad_mask, other=0.0)
        basis_offs = offs_f[:, None] * win_length + offs_k[None, :]
        basis_mask = f_ok[:, None] & k_ok[None, :]
        basis_re = tl.load(basis_ptr + basis_offs, mask=basis_mask, other=0.0)
        basis_im = tl.load(basis_ptr + num_bins * win_length + basis_offs, mask=basis_mask, other=0.0)
        acc = tl.dot(grad_re, basis_re, acc, input_precision=PRECISION)
        acc = tl.dot(grad_im, basis_im, acc, input_precision=PRECISION)

    out_row = frames_grad_ptr + batch.to(tl.int64) * num_frames * win_length
    out_offs = offs_t.to(tl.int64)[:, None] * win_length + offs_k[None, :]
    tl.store(out_row + out_offs, acc, mask=t_ok[:, None] & k_ok[None, :])


@triton.jit
def _gather_frames(frames_row, padded_pos, active, left, win_length, num_frames, hop_length, num_taps):
    # Sum of d loss / d frame sample over every (frame t, tap k) with t*hop + left + k == padded_pos.
    span_pos = padded_pos - left
    active = active & (span_pos >= 0)
    span_pos = tl.where(active, span_pos, 0)
    last_frame = span_pos // hop_length
    total = tl.zeros(padded_pos.shape, dtype=tl.float32)
    for q in range(0, num_taps):
        frame = last_frame - q
        tap = span_pos - frame * hop_length
        ok = active & (frame >= 0) & (frame < num_frames) & (tap < win_length)
        total += tl.load(frames_row + frame.to(tl.int64) * win_length + tap, mask=ok, other=0.0)
    return total


@triton.jit
def stft_backward_overlap_add_kernel(
    frames_grad_ptr,  # (B, frames, K) fp32, contiguous
    grad_signal_ptr,  # (B, T) input dtype, contiguous
    num_samples,
    win_length,
    num_frames,
    hop_length,
    pad,  # reflect padding on each side (n_fft // 2 when centred)
    left,  # offset of the window's support inside the n_fft frame
    num_taps,  # ceil(win_length / hop_length): frames one sample can belong to
    BLOCK: tl.constexpr,
    CENTER: tl.constexpr,
):
    pid = tl.program_id(0)
    num_tiles = tl.cdiv(num_samples, BLOCK)
    tile = pid % num_tiles
    batch = pid // num_tiles
    offs = tile * BLOCK + tl.arange(0, BLOCK)
    ok = offs < num_samples
    frames_row = frames_grad_ptr + batch.to(tl.int64) * num_frames * win_length

    total = _gather_frames(frames_row, offs + pad, ok, left, win_length, num_frames, hop_length, num_taps)
    if CENTER:
        # Samples 1..pad were mirrored into the left padding, T-1-pad..T-2 into the right.
        mirrored_left = ok & (offs >= 1) & (offs <= pad)
        total += _gather_frames(frames_row, pad - offs, mirrored_left, left, win_length, num_frames, hop_length, num_taps)
        mirrored_right = ok & (offs >= num_samples - 1 - pad) & (offs <= num_samples - 2)
        total += _gather_frames(
            frames_row, pad + 2 * (num_samples - 1) - offs, mirrored_right,
            left, win_length, num_frames, hop_length, num_taps,
        )
    out_row = grad_signal_ptr + batch.to(tl.int64) * num_samples
    tl.store(out_row + offs, total.to(grad_signal_ptr.dtype.element_ty), mask=ok)
