"""Drop-in replacements for the nine public names of ``thunder.blocks`` (thunder-speech 3.2.0).

``convolution_stft`` and ``normalize_tensor`` dispatch through ``thunder_kernels._dispatch``: the
fused Triton kernels on CUDA tensors, pure torch elsewhere, and the scriptable/exportable
formulation while a graph is captured. The other seven names behave exactly as in the seed.
"""

__all__ = [
    "convolution_stft",
    "MultiSequential",
    "Masked",
    "normalize_tensor",
    "lengths_to_mask",
    "get_same_padding",
    "conv1d_decoder",
    "SwapLastDimension",
    "linear_decoder",
]

import numbers
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

from ._dispatch import select_backend
from .normalize.reference import NormalizeFunction, check_normalize_args, normalize_reference
from .stft.reference import DEFAULT_WINDOW, check_stft_args, stft_fft, stft_graph

PRECISIONS = ("ieee", "tf32x3", "tf32")


def convolution_stft(
    input_data: Tensor,
    n_fft: int = 1024,
    hop_length: int = 512,
    win_length: int = 1024,
    window: Optional[Tensor] = DEFAULT_WINDOW,
    center: bool = True,
    return_complex: bool = False,
    precision: Optional[str] = None,
) -> Tensor:
    """Short-time Fourier transform with ``torch.stft``'s conventions, exportable to ONNX.

    Frames of ``n_fft`` samples every ``hop_length`` samples are multiplied by ``window``
    (zero-padded to ``n_fft``, centred) and transformed; only the ``n_fft // 2 + 1``
    non-negative frequencies are returned. While a graph is captured (``torch.jit.script``,
    tracing, ONNX or ``torch.export``) it runs as a strided convolution with the windowed Fourier
    basis, so exported models need no FFT operator.

    Args:
        input_data: real signal of shape ``(time,)`` or ``(..., time)``; float16, bfloat16,
            float32 or float64.
        n_fft: size of the Fourier transform.
        hop_length: distance between neighbouring frames, in samples (>= 1).
        win_length: window size, ``1 <= win_length <= n_fft``.
        window: 1-D tensor of ``win_length`` samples, or ``None`` for a rectangular window.
            Moved to the input's device. The default is thunder's ``hann_window(1024,
            periodic=False)``.
        center: reflect-pad ``n_fft // 2`` samples on both sides so that frame ``t`` is centred
            on sample ``t * hop_length`` (as ``torch.stft``).
        return_complex: return a complex tensor ``(..., freq, frames)`` instead of the real
            ``(..., freq, frames, 2)`` pair (real, imag).
        precision: float32 GEMM mode of the fused GPU kernel: ``"ieee"`` (exact fp32 FMAs),
            ``"tf32x3"`` (three TF32 tensor-core passes, fp32-grade error) or ``"tf32"`` (one
            pass, ~1e-3 relative error, fastest). ``None`` follows
            ``torch.get_float32_matmul_precision()``: ``"highest"`` -> ``"tf32x3"``, otherwise
            ``"tf32"``. The pure-torch paths are exact and ignore it.

    Returns:
        ``(..., n_fft // 2 + 1, frames, 2)`` in the input's dtype (complex
        ``(..., n_fft // 2 + 1, frames)`` with ``return_complex``), ``frames = 1 + (time +
        2 * (n_fft // 2 if center else 0) - n_fft) // hop_length``.

    Raises:
        TypeError: non-tensor or non-floating input/window, non-integer sizes, bfloat16 with
            ``return_complex``.
        ValueError: impossible sizes (see the message for the numbers and the fix).
    """
    if torch.jit.is_scripting():
        return stft_graph(input_data, n_fft, hop_length, win_length, window, center, return_complex)
    return _convolution_stft_eager(
        input_data, n_fft, hop_length, win_length, window, center, return_complex, precision
    )


def _require_int(name: str, value: object, fn: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")


def _require_tensor(name: str, value: object, fn: str, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}: {name} must be a torch.Tensor, got {type(value).__name__}")


@torch.jit.unused
def _convolution_stft_eager(
    input_data: Tensor,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: Optional[Tensor],
    center: bool,
    return_complex: bool,
    precision: Optional[str],
) -> Tensor:
    fn = "convolution_stft"
    _require_tensor("input_data", input_data, fn)
    _require_tensor("window", window, fn, optional=True)
    for name, value in (("n_fft", n_fft), ("hop_length", hop_length), ("win_length", win_length)):
        _require_int(name, value, fn)
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(
            f"{fn}: precision must be None or one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    n_fft, hop_length, win_length = int(n_fft), int(hop_length), int(win_length)
    center, return_complex = bool(center), bool(return_complex)
    check_stft_args(input_data, n_fft, hop_length, win_length, window, center, return_complex)
    backend = select_backend(input_data)
    if backend == "graph":
        return stft_graph(input_data, n_fft, hop_length, win_length, window, center, return_complex)
    window_needs_grad = window is not None and window.requires_grad and torch.is_grad_enabled()
    if backend == "triton" and not window_needs_grad:
        from .stft.ops import stft_triton

        return stft_triton(
            input_data, n_fft, hop_length, win_length, window, center, return_complex, precision
        )
    # The fused kernels give no gradient for the window; a trainable window runs here.
    return stft_fft(input_data, n_fft, hop_length, win_length, window, center, return_complex)


def normalize_tensor(
    input_values: Tensor,
    mask: Optional[Tensor] = None,
    div_guard: float = 1e-7,
    dim: int = -1,
    lengths: Optional[Tensor] = None,
) -> Tensor:
    """Normalize tensor values, optionally using a mask (or lengths) to define the valid region.

    With a mask, each row along ``dim`` is shifted by the mean of its valid elements and divided
    by ``std + div_guard``, where ``std = sqrt(sum((x0 - mean)^2) / count)`` sums over *all*
    positions of the row with ``x0`` zero outside the mask (thunder 3.2.0's definition, kept
    bit-for-bit in meaning); elements outside the mask become 0 and a row with no valid element
    is all zeros. Without a mask: ``(x - mean) / sqrt(var + div_guard)`` with unbiased ``var``.
    Mean and std are detached from autograd, as in thunder. Statistics are float32 for half
    inputs; the output keeps the input's dtype.

    Args:
        input_values: tensor to normalize (any floating dtype, any strides).
        mask: optional tensor of any dtype, broadcastable to ``input_values`` (e.g. ``(B, 1, T)``
            against ``(B, F, T)``); nonzero marks valid elements.
        div_guard: guard against division by zero (>= 0).
        dim: dimension along which mean and std are computed.
        lengths: optional ``(B,)`` integer or float tensor of valid lengths along ``dim`` per batch
            element (dim 0); floats truncate like thunder's ``lengths_to_mask``. The same as
            ``mask=lengths_to_mask(lengths, T)`` placed along ``dim``, without building the mask.
            Pass it by keyword.

    Returns:
        Normalized tensor, same shape and dtype as ``input_values``.

    Raises:
        TypeError: non-tensor or non-floating input, bad mask/lengths dtype.
        ValueError: ``dim`` out of range, negative or non-finite ``div_guard``, mask not
            broadcastable, lengths of the wrong shape, both ``mask`` and ``lengths``.
    """
    if torch.jit.is_scripting():
        return normalize_reference(input_values, mask, div_guard, dim, lengths)
    return _normalize_tensor_eager(input_values, mask, div_guard, dim, lengths)


@torch.jit.unused
def _normalize_tensor_eager(
    input_values: Tensor,
    mask: Optional[Tensor],
    div_guard: float,
    dim: int,
    lengths: Optional[Tensor],
) -> Tensor:
    fn = "normalize_tensor"
    _require_tensor("input_values", input_values, fn)
    _require_tensor("mask", mask, fn, optional=True)
    _require_tensor("lengths", lengths, fn, optional=True)
    _require_int("dim", dim, fn)
    if isinstance(div_guard, bool) or not isinstance(div_guard, numbers.Real):
        raise TypeError(f"{fn}: div_guard must be a float, got {type(div_guard).__name__}")
    div_guard, dim = float(div_guard), int(dim)
    check_normalize_args(input_values, mask, div_guard, dim, lengths)
    backend = select_backend(input_values)
    if backend == "triton":
        from .normalize.ops import normalize_triton

        return normalize_triton(input_values, mask, div_guard, dim, lengths)
    if backend == "torch" and input_values.requires_grad and torch.is_grad_enabled():
        return NormalizeFunction.apply(input_values, mask, div_guard, dim, lengths)
    return normalize_reference(input_values, mask, div_guard, dim, lengths)


class MultiSequential(nn.Sequential):
    """nn.Sequential equivalent with 2 inputs/outputs"""

    def forward(self, audio: Tensor, audio_lengths: Tensor) -> Tuple[Tensor, Tensor]:
        for module in self.children():
            audio, audio_lengths = module(audio, audio_lengths)
        return audio, audio_lengths


class Masked(nn.Module):
    """Wrapper to mix normal modules with others that take 2 inputs"""

    def __init__(self, *layers):
        super().__init__()
        self.layer = nn.Sequential(*layers)

    def forward(self, audio: Tensor, audio_lengths: Tensor) -> Tuple[Tensor, Tensor]:
        return self.layer(audio), audio_lengths


def lengths_to_mask(lengths: Tensor, max_length: int) -> Tensor:
    """Convert from integer lengths of each element to mask representation

    Args:
        lengths: lengths of each element in the batch
        max_length: maximum length expected. Can be greater than lengths.max()

    Returns:
        Corresponding boolean mask indicating the valid region of the tensor.
    """
    lengths = lengths.type(torch.long)
    positions = torch.arange(max_length, device=lengths.device)
    return positions.expand(lengths.shape[0], max_length) < lengths.unsqueeze(1)


def get_same_padding(kernel_size: int, stride: int, dilation: int) -> int:
    """Calculates the padding size to obtain same padding.

    Same padding means that the output has the shape ``input_shape / stride``: for stride 1 the
    output shape is the input's, stride 2 halves it.

    Args:
        kernel_size: convolution kernel size. Only tested to be correct with odd values.
        stride: convolution stride
        dilation: convolution dilation

    Raises:
        ValueError: Only stride or dilation may be greater than 1

    Returns:
        padding value to obtain same padding.
    """
    if stride > 1 and dilation > 1:
        raise ValueError("Only stride OR dilation may be greater than 1")
    if dilation > 1:
        return (dilation * (kernel_size - 1) + 1) // 2
    return kernel_size // 2


def conv1d_decoder(decoder_input_channels: int, num_classes: int) -> nn.Module:
    """Decoder that uses one conv1d layer

    Args:
        decoder_input_channels: Number of input channels of the decoder, the number of channels
            of the features created by the encoder.
        num_classes: Number of output classes of the model: the size of the vocabulary,
            excluding the blank symbol.

    Returns:
        Pytorch model of the decoder
    """
    decoder = nn.Conv1d(decoder_input_channels, num_classes, kernel_size=1, bias=True)
    nn.init.xavier_uniform_(decoder.weight, gain=1.0)
    return decoder


class SwapLastDimension(nn.Module):
    """Layer that swap the last two dimensions of the data."""

    def forward(self, x: Tensor) -> Tensor:
        return x.transpose(-1, -2)


def linear_decoder(
    decoder_input_channels: int, num_classes: int, decoder_dropout: float
) -> nn.Module:
    """Decoder that uses a linear layer with dropout

    Args:
        decoder_input_channels: Number of input channels of the decoder, the number of channels
            of the features created by the encoder.
        num_classes: Number of output classes of the model: the size of the vocabulary,
            excluding the blank symbol.
        decoder_dropout: Amount of dropout to be used in the decoder

    Returns:
        Module that represents the decoder.
    """
    # (batch, channels, time) -> (batch, time, channels) for nn.Linear, and back.
    return nn.Sequential(
        SwapLastDimension(),
        nn.Dropout(decoder_dropout),
        nn.Linear(decoder_input_channels, num_classes),
        SwapLastDimension(),
    )
