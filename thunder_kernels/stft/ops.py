"""``torch.library`` ops and autograd for the fused STFT, and the entry point the API calls.

``thunder_kernels::stft`` and ``thunder_kernels::stft_backward`` are custom ops with fake
(meta) implementations, so ``torch.compile(fullgraph=True)`` traces them without a graph break;
``register_autograd`` joins them. The basis is fetched from the cache inside the op, where
``torch.compile`` does not trace.
"""

from typing import Optional

import torch
from torch import Tensor

from . import launchers
from .basis import windowed_basis
from .reference import num_frames, stft_fft

__all__ = ["stft_triton"]


@torch.library.custom_op("thunder_kernels::stft", mutates_args=())
def stft_op(
    signal: Tensor,
    window: Optional[Tensor],
    n_fft: int,
    hop_length: int,
    win_length: int,
    center: bool,
    precision: str,
) -> Tensor:
    basis = windowed_basis(window, n_fft, win_length, signal.device, signal.dtype)
    resolved = launchers.resolve_precision(precision, signal.dtype)
    return launchers.stft_forward(signal, basis, n_fft, hop_length, center, resolved)


@stft_op.register_fake
def _stft_fake(signal, window, n_fft, hop_length, win_length, center, precision):
    frames = num_frames(signal.shape[1], n_fft, hop_length, center)
    return signal.new_empty((signal.shape[0], n_fft // 2 + 1, frames, 2))


@torch.library.custom_op("thunder_kernels::stft_backward", mutates_args=())
def stft_backward_op(
    grad: Tensor,
    window: Optional[Tensor],
    n_fft: int,
    hop_length: int,
    win_length: int,
    center: bool,
    num_samples: int,
    precision: str,
) -> Tensor:
    basis = windowed_basis(window, n_fft, win_length, grad.device, grad.dtype)
    resolved = launchers.resolve_precision(precision, grad.dtype)
    return launchers.stft_backward(grad, basis, n_fft, hop_length, center, num_samples, resolved)


@stft_backward_op.register_fake
def _stft_backward_fake(grad, window, n_fft, hop_length, win_length, center, num_samples, precision):
    return grad.new_empty((grad.shape[0], num_samples))


def _setup_context(ctx, inputs, output):
    signal, window, n_fft, hop_length, win_length, center, precision = inputs
    ctx.window = window
    ctx.args = (n_fft, hop_length, win_length, center, signal.shape[1], precision)


def _backward(ctx, grad):
    n_fft, hop_length, win_length, center, num_samples, precision = ctx.args
    grad_signal = stft_backward_op(
        grad, ctx.window, n_fft, hop_length, win_length, center, num_samples, precision
    )
    return grad_signal, None, None, None, None, None, None


stft_op.register_autograd(_backward, setup_context=_setup_context)


def stft_triton(
    input_data: Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: Optional[Tensor],
    center: bool,
    return_complex: bool,
    precision: Optional[str],
) -> Tensor:
    """Fused-kernel STFT with the public function's arguments (already checked).

    float64 has no tensor-core path and runs through ``torch.stft`` (cuFFT), which is exact.
    """
    if input_data.dtype == torch.float64:
        return stft_fft(input_data, n_fft, hop_length, win_length, window, center, return_complex)
    shape = input_data.shape
    signal = input_data.reshape(-1, shape[-1])
    if signal.shape[-1] * max(signal.stride(-1), 1) >= 2**31:
        signal = signal.contiguous()  # keeps in-row offsets within int32 range
    # A CPU window stays on the CPU: the basis cache keys it by contents and keeps the device copy.
    # "auto" is resolved inside the op, at run time, where torch.compile does not trace.
    out = stft_op(signal, window, n_fft, hop_length, win_length, center, precision or "auto")
    out = out.reshape(*shape[:-1], *out.shape[1:])
    return torch.view_as_complex(out) if return_complex else out
