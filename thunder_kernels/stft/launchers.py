"""Launchers of the fused STFT kernels: allocate, choose the configuration, launch. No autograd.

The configuration is a fixed table (one per kernel and dtype/precision), so that the compile-only
tests can build every configuration a launcher can choose (``compile_cases``).
"""

from typing import Dict, List, Tuple

import torch
import triton

from .. import _alloc
from . import kernels
from .reference import num_frames as count_frames

__all__ = ["resolve_precision", "stft_forward", "stft_backward", "compile_cases"]

PRECISIONS = ("ieee", "tf32x3", "tf32")

# Tile sizes: tl.dot needs every dimension >= 16; 64x128 fp32 accumulators pair with 8 warps.
FORWARD_CONFIG = dict(BLOCK_F=64, BLOCK_T=128, BLOCK_K=32, num_warps=8, num_stages=3)
BACKWARD_FRAMES_CONFIG = dict(BLOCK_T=128, BLOCK_K=64, BLOCK_F=32, num_warps=8, num_stages=3)
OVERLAP_ADD_CONFIG = dict(BLOCK=1024, num_warps=4)

_TRITON_DTYPE = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def resolve_precision(precision, dtype: torch.dtype) -> str:
    """The ``tl.dot`` input precision for this call.

    ``None`` or ``"auto"`` follows ``torch.get_float32_matmul_precision()``: ``"highest"`` -> ``"tf32x3"``
    (fp32-grade error on tensor cores), ``"high"``/``"medium"`` -> ``"tf32"``. Half inputs are
    multiplied natively on tensor cores whatever is asked ("ieee" is passed and ignored).
    """
    if dtype != torch.float32:
        return "ieee"
    if precision is None or precision == "auto":
        return "tf32x3" if torch.get_float32_matmul_precision() == "highest" else "tf32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision


def stft_forward(
    signal: torch.Tensor, basis: torch.Tensor, n_fft: int, hop_length: int, center: bool, precision: str
) -> torch.Tensor:
    """Spectrum ``(B, F, frames, 2)`` of a ``(B, T)`` signal (any strides) with basis ``(2, F, K)``."""
    batch, num_samples = signal.shape
    num_bins, win_length = basis.shape[1], basis.shape[2]
    frames = count_frames(num_samples, n_fft, hop_length, center)
    out = _alloc.empty((batch, num_bins, frames, 2), signal.dtype, signal.device)
    if out.numel() == 0:
        return out
    pad = n_fft // 2 if center else 0
    left = (n_fft - win_length) // 2
    cfg = FORWARD_CONFIG
    grid = (batch * triton.cdiv(num_bins, cfg["BLOCK_F"]) * triton.cdiv(frames, cfg["BLOCK_T"]),)
    kernels.stft_forward_kernel[grid](
        signal, basis, out,
        num_samples, num_bins, win_length, frames, hop_length, left - pad,
        signal.stride(0), signal.stride(1),
        BLOCK_F=cfg["BLOCK_F"], BLOCK_T=cfg["BLOCK_T"], BLOCK_K=cfg["BLOCK_K"], PRECISION=precision,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"],
    )
    return out


def stft_backward(
    grad: torch.Tensor,
    basis: torch.Tensor,
    n_fft: int,
    hop_length: int,
    center: bool,
    num_samples: int,
    precision: str,
) -> torch.Tensor:
    """Gradient ``(B, T)`` for the signal from the spectrum's gradient ``(B, F, frames, 2)``."""
    batch, num_bins, frames, _ = grad.shape
    win_length = basis.shape[2]
    grad_signal = _alloc.empty((batch, num_samples), grad.dtype, grad.device)
    if grad_signal.numel() == 0:
        return grad_signal
    frames_grad = _alloc.empty((batch, frames, win_length), torch.float32, grad.device)
    cfg = BACKWARD_FRAMES_CONFIG
    grid = (batch * triton.cdiv(frames, cfg["BLOCK_T"]) * triton.cdiv(win_length, cfg["BLOCK_K"]),)
    kernels.stft_backward_frames_kernel[grid](
        grad, basis, frames_grad,
        num_bins, win_length, frames,
        grad.stride(0), grad.stride(1), grad.stride(2), grad.stride(3),
        BLOCK_T=cfg["BLOCK_T"], BLOCK_K=cfg["BLOCK_K"], BLOCK_F=cfg["BLOCK_F"], PRECISION=precision,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"],
    )
    cfg = OVERLAP_ADD_CONFIG
    grid = (batch * triton.cdiv(num_samples, cfg["BLOCK"]),)
    kernels.stft_backward_overlap_add_kernel[grid](
        frames_grad, grad_signal,
        num_samples, win_length, frames, hop_length,
        n_fft // 2 if center else 0, (n_fft - win_length) // 2, triton.cdiv(win_length, hop_length),
        BLOCK=cfg["BLOCK"], CENTER=center, num_warps=cfg["num_warps"],
    )
    return grad_signal


def compile_cases() -> List[Tuple[str, Dict[str, str], Dict[str, object], int]]:
    """Every (kernel name, signature, constexprs, num_warps) the launchers can launch."""
    cases = []
    for dtype, tdt in _TRITON_DTYPE.items():
        precisions = PRECISIONS if dtype == torch.float32 else ("ieee",)
        for precision in precisions:
            cfg = FORWARD_CONFIG
            sig = {
                "signal_ptr": f"*{tdt}", "basis_ptr": f"*{tdt}", "out_ptr": f"*{tdt}",
                **{n: "i32" for n in ("num_samples", "num_bins", "win_length", "num_frames",
                                       "hop_length", "first_sample", "stride_sb", "stride_st")},
            }
            consts = dict(BLOCK_F=cfg["BLOCK_F"], BLOCK_T=cfg["BLOCK_T"], BLOCK_K=cfg["BLOCK_K"], PRECISION=precision)
            cases.append(("stft_forward_kernel", sig, consts, cfg["num_warps"]))
            cfg = BACKWARD_FRAMES_CONFIG
            sig = {
                "grad_ptr": f"*{tdt}", "basis_ptr": f"*{tdt}", "frames_grad_ptr": "*fp32",
                **{n: "i32" for n in ("num_bins", "win_length", "num_frames",
                                       "stride_gb", "stride_gf", "stride_gt", "stride_gc")},
            }
            consts = dict(BLOCK_T=cfg["BLOCK_T"], BLOCK_K=cfg["BLOCK_K"], BLOCK_F=cfg["BLOCK_F"], PRECISION=precision)
            cases.append(("stft_backward_frames_kernel", sig, consts, cfg["num_warps"]))
        for center in (True, False):
            sig = {
                "frames_grad_ptr": "*fp32", "grad_signal_ptr": f"*{tdt}",
                **{n: "i32" for n in ("num_samples", "win_length", "num_frames", "hop_length",
                                       "pad", "left", "num_taps")},
            }
            cases.append(("stft_backward_overlap_add_kernel", sig,
                          dict(BLOCK=OVERLAP_ADD_CONFIG["BLOCK"], CENTER=center), OVERLAP_ADD_CONFIG["num_warps"]))
    return cases
