"""Pure-torch STFT: the export/script formulation, the eager formulation, and their checks.

Two formulations compute the same thing:

* ``stft_graph`` — reflect pad, strided ``conv1d`` against the windowed real/imaginary Fourier
  basis. Plain ops only, so it scripts (``torch.jit.script``) and exports to ONNX with both
  exporters; it is what runs while a graph is being captured.
* ``stft_fft`` — ``torch.stft`` (pocketfft on CPU, cuFFT on GPU) reshaped to the same output.
  O(N log N) per frame instead of O(N^2): the eager CPU product.

The basis is accurate to float64: the phase index ``k*n`` is reduced modulo ``n_fft`` in int64 before
any float arithmetic, so no large angle ever reaches ``cos``/``sin``; the table is built in float64
and cast once. Only the ``win_length`` columns under the window are kept, because the columns
outside it multiply zeros.
"""

import math
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "DEFAULT_WINDOW",
    "check_stft_args",
    "dft_table",
    "num_frames",
    "stft_fft",
    "stft_graph",
]

# thunder.blocks 3.2.0's default, kept so that calls relying on it give the same numbers.
DEFAULT_WINDOW = torch.hann_window(1024, periodic=False)


def num_frames(num_samples: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Number of STFT frames, as ``torch.stft`` counts them."""
    pad = n_fft // 2 if center else 0
    return 1 + (num_samples + 2 * pad - n_fft) // hop_length


def check_stft_args(
    input_data: Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: Optional[Tensor],
    center: bool,
    return_complex: bool,
) -> None:
    """Validate STFT arguments; scriptable, so the export path gives the same messages.

    Raises:
        TypeError: non-floating or complex input or window; complex output of bfloat16 input.
        ValueError: any size that cannot produce an STFT, with the numbers and the fix.
    """
    if not input_data.is_floating_point():
        raise TypeError(
            "convolution_stft: input_data must be a real floating tensor (float16, bfloat16, "
            "float32 or float64), got " + str(input_data.dtype) + "; convert it with .float()"
        )
    if input_data.dim() < 1:
        raise ValueError(
            "convolution_stft: input_data must have at least one dimension (..., time), "
            "got a 0-d tensor"
        )
    if n_fft < 1:
        raise ValueError("convolution_stft: n_fft must be >= 1, got " + str(n_fft))
    if hop_length < 1:
        raise ValueError(
            "convolution_stft: hop_length must be >= 1, got " + str(hop_length)
        )
    if win_length < 1 or win_length > n_fft:
        raise ValueError(
            "convolution_stft: win_length must satisfy 1 <= win_length <= n_fft, got win_length="
            + str(win_length) + " with n_fft=" + str(n_fft)
        )
    if window is not None:
        if not window.is_floating_point():
            raise TypeError(
                "convolution_stft: window must be a real floating tensor, got "
                + str(window.dtype)
            )
        if window.dim() != 1 or window.shape[0] != win_length:
            raise ValueError(
                "convolution_stft: window must be 1-D with win_length="
                + str(win_length) + " samples, got shape " + str(list(window.shape))
                + "; pass win_length=window.numel() or a window of that length"
            )
    num_samples = input_data.shape[-1]
    if center:
        pad = n_fft // 2
        if num_samples <= pad:
            raise ValueError(
                "convolution_stft: with center=True the signal needs more than n_fft // 2 = "
                + str(pad) + " samples for reflect padding, got " + str(num_samples)
                + "; use a shorter n_fft or a longer signal"
            )
    elif num_samples < n_fft:
        raise ValueError(
            "convolution_stft: with center=False the signal needs at least n_fft = "
            + str(n_fft) + " samples, got " + str(num_samples)
        )
    if return_complex and input_data.dtype == torch.bfloat16:
        raise TypeError(
            "convolution_stft: return_complex=True has no bfloat16 complex dtype in torch; "
            "use return_complex=False or convert the input to float16/float32"
        )


def dft_table(n_fft: int, win_length: int, device: torch.device) -> Tensor:
    """Real and imaginary DFT rows over the window's support, float64, shape ``(2 * F, win_length)``.

    Row ``f`` holds ``cos(2*pi*f*n/n_fft)`` and row ``F + f`` holds ``-sin(2*pi*f*n/n_fft)`` for
    ``n`` in ``[left, left + win_length)``, ``left = (n_fft - win_length) // 2``, ``F = n_fft//2+1``
    (``torch.stft``'s sign convention).
    """
    left = (n_fft - win_length) // 2
    num_bins = n_fft // 2 + 1
    freqs = torch.arange(num_bins, dtype=torch.int64, device=device)
    samples = torch.arange(left, left + win_length, dtype=torch.int64, device=device)
    phase_index = torch.remainder(freqs.unsqueeze(1) * samples.unsqueeze(0), n_fft)
    angle = phase_index.to(torch.float64) * (2.0 * math.pi / n_fft)
    return torch.cat([torch.cos(angle), -torch.sin(angle)], dim=0)


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # Half inputs are computed in float32 (statistics and sums in fp32), cast back at the end.
    if dtype == torch.float16 or dtype == torch.bfloat16:
        return torch.float32
    return dtype


def _output_shape(input_shape: List[int], n_fft: int, frames: int) -> List[int]:
    return input_shape[:-1] + [n_fft // 2 + 1, frames, 2]


def stft_graph(
    input_data: Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: Optional[Tensor],
    center: bool,
    return_complex: bool,
) -> Tensor:
    """STFT as reflect pad + strided conv1d; scripts and exports to ONNX.

    Same arguments and result as ``thunder_kernels.convolution_stft``.
    """
    check_stft_args(input_data, n_fft, hop_length, win_length, window, center, return_complex)
    shape = list(input_data.shape)
    compute_dtype = _compute_dtype(input_data.dtype)
    signal = input_data.reshape(-1, 1, shape[-1]).to(compute_dtype)
    if center:
        pad = n_fft // 2
        signal = F.pad(signal, [pad, pad], mode="reflect")
    # The window covers [left, left + win_length) of each n_fft frame; skipping the zero columns
    # means the convolution runs over the trimmed signal with a win_length kernel.
    left = (n_fft - win_length) // 2
    right = n_fft - left - win_length
    signal = signal[:, :, left : signal.shape[-1] - right]
    if window is None:
        weights = torch.ones(win_length, dtype=torch.float64, device=input_data.device)
    else:
        weights = window.to(device=input_data.device, dtype=torch.float64)
    basis = (dft_table(n_fft, win_length, input_data.device) * weights).to(compute_dtype)
    spectrum = F.conv1d(signal, basis.unsqueeze(1), stride=hop_length)
    num_bins = n_fft // 2 + 1
    frames = spectrum.shape[-1]
    spectrum = spectrum.reshape(-1, 2, num_bins, frames).permute(0, 2, 3, 1)
    out = spectrum.reshape(_output_shape(shape, n_fft, frames)).to(input_data.dtype).contiguous()
    if return_complex:
        return torch.view_as_complex(out)
    return out


# Without autograd, the CPU path transforms blocks of frames whose temporaries stay under this
# size. One pass over the whole batch frees ~50 MB of temporaries per call on (8, 160000): glibc
# hands that back to the system and every call page-faults it in again, ~5x the compute.
_CPU_BLOCK_BYTES = 2 << 20


def _reflect_pad(signal: Tensor, pad: int) -> Tensor:
    # Two slices and a cat: reflection_pad1d is several times slower on CPU.
    length = signal.shape[-1]
    head = signal[:, 1 : pad + 1].flip(-1)
    tail = signal[:, length - pad - 1 : length - 1].flip(-1)
    return torch.cat([head, signal, tail], dim=-1)


def stft_fft(
    input_data: Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: Optional[Tensor],
    center: bool,
    return_complex: bool,
) -> Tensor:
    """STFT through ``torch.fft.rfft`` on windowed frames; same result as ``stft_graph``.

    O(N log N) per frame: the eager product on CPU (and the float64 path on GPU). It is
    ``torch.stft``'s algorithm written out, so that the spectrum is transposed into the seed's
    contiguous ``(F, frames)`` layout as whole complex elements (~5x faster on CPU than the
    ``(..., 2)``-strided real view) and, on CPU without autograd, computed in cache-sized
    blocks straight into the output. Arguments are assumed checked (``check_stft_args``).
    Differentiable in the input and the window.
    """
    shape = list(input_data.shape)
    compute_dtype = _compute_dtype(input_data.dtype)
    signal = input_data.reshape(-1, shape[-1]).to(compute_dtype)
    if window is None:
        window = torch.ones(win_length, device=signal.device, dtype=compute_dtype)
    else:
        window = window.to(device=signal.device, dtype=compute_dtype)
    left = (n_fft - win_length) // 2
    window = F.pad(window, [left, n_fft - win_length - left])
    pad = n_fft // 2 if center else 0
    needs_grad = torch.is_grad_enabled() and (signal.requires_grad or window.requires_grad)
    if signal.device.type != "cpu" or needs_grad:
        padded = _reflect_pad(signal, pad) if center else signal
        frames = padded.unfold(-1, n_fft, hop_length)  # (rows, frames, n_fft), a view
        spectrum = torch.fft.rfft(frames * window, dim=-1).transpose(-1, -2).contiguous()
    else:
        num_rows = signal.shape[0]
        num_frames_total = num_frames(shape[-1], n_fft, hop_length, center)
        complex_dtype = torch.complex128 if compute_dtype == torch.float64 else torch.complex64
        spectrum = torch.empty((num_rows, n_fft // 2 + 1, num_frames_total), dtype=complex_dtype)
        frame_bytes = n_fft * signal.element_size()
        row_bytes = num_frames_total * frame_bytes
        if row_bytes <= _CPU_BLOCK_BYTES:
            rows_per_block, frames_per_block = _CPU_BLOCK_BYTES // row_bytes, num_frames_total
        else:
            rows_per_block, frames_per_block = 1, max(1, _CPU_BLOCK_BYTES // frame_bytes)
        for row in range(0, num_rows, rows_per_block):
            rows = signal[row : row + rows_per_block]
            frames = (_reflect_pad(rows, pad) if center else rows).unfold(-1, n_fft, hop_length)
            for frame in range(0, num_frames_total, frames_per_block):
                block = torch.fft.rfft(frames[:, frame : frame + frames_per_block] * window, dim=-1)
                target = spectrum[row : row + rows_per_block, :, frame : frame + frames_per_block]
                target.copy_(block.transpose(-1, -2))
    num_bins, num_frames_out = spectrum.shape[-2], spectrum.shape[-1]
    if return_complex:
        if input_data.dtype == torch.float16:
            spectrum = spectrum.to(torch.complex32)
        return spectrum.reshape(shape[:-1] + [num_bins, num_frames_out])
    out = torch.view_as_real(spectrum).to(input_data.dtype)
    return out.reshape(_output_shape(shape, n_fft, num_frames_out))
