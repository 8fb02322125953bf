"""Fused GPU kernels for thunder-speech's audio front end, as a drop-in for ``thunder.blocks``.

``from thunder_kernels import convolution_stft, normalize_tensor`` (or any of the nine names of
``thunder.blocks``) gives the same numbers as thunder-speech 3.2.0, faster: Triton kernels on CUDA
tensors, pure torch elsewhere, and an exportable formulation under scripting and export.
"""

from .blocks import (
    Masked,
    MultiSequential,
    SwapLastDimension,
    conv1d_decoder,
    convolution_stft,
    get_same_padding,
    lengths_to_mask,
    linear_decoder,
    normalize_tensor,
)
from ._dispatch import select_backend

__version__ = "0.1.0"

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
    "select_backend",
]
