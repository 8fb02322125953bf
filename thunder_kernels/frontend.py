"""A thunder-style audio front end built on the drop-in ops, ready to script and export.

``FilterbankFeatures`` follows the structure of thunder-speech's filterbank: pre-emphasis, power
spectrum from ``convolution_stft`` (window stored as a buffer), mel projection, log, and per-feature
normalization of the valid frames with ``normalize_tensor`` and a mask built from the lengths.
"""

import math
from typing import Tuple

import torch
from torch import Tensor, nn

from .blocks import convolution_stft, lengths_to_mask, normalize_tensor

__all__ = ["FilterbankFeatures", "mel_filterbank"]


def _hz_to_mel(freq: Tensor) -> Tensor:
    return 2595.0 * torch.log10(1.0 + freq / 700.0)


def _mel_to_hz(mel: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> Tensor:
    """Triangular HTK-scale mel filters, ``(n_mels, n_fft // 2 + 1)``, area-normalised."""
    num_bins = n_fft // 2 + 1
    bin_freqs = torch.linspace(0.0, sample_rate / 2.0, num_bins, dtype=torch.float64)
    mel_points = torch.linspace(
        0.0, float(_hz_to_mel(torch.tensor(sample_rate / 2.0))), n_mels + 2, dtype=torch.float64
    )
    hz_points = _mel_to_hz(mel_points)
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    rising = (bin_freqs - lower) / (centre - lower)
    falling = (upper - bin_freqs) / (upper - centre)
    filters = torch.clamp(torch.minimum(rising, falling), min=0.0)
    filters = filters * (2.0 / (upper - lower))
    return filters.to(torch.float32)


class FilterbankFeatures(nn.Module):
    """Log-mel features normalized over the valid frames: thunder's front end.

    Args:
        sample_rate: audio sample rate in Hz.
        n_fft: STFT size.
        win_length: window length in samples (Hann, periodic=False as in thunder).
        hop_length: hop between frames in samples.
        n_mels: number of mel filters.
        preemph: pre-emphasis coefficient (0 disables it).
        log_guard: added to the mel power before the log.
        normalize_guard: ``div_guard`` of the per-feature normalization.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        n_mels: int = 80,
        preemph: float = 0.97,
        log_guard: float = 2.0 ** -24,
        normalize_guard: float = 1e-5,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.preemph = preemph
        self.log_guard = log_guard
        self.normalize_guard = normalize_guard
        self.register_buffer("window", torch.hann_window(win_length, periodic=False))
        self.register_buffer("mel_basis", mel_filterbank(sample_rate, n_fft, n_mels))

    def feature_lengths(self, audio_lengths: Tensor) -> Tensor:
        """Number of valid frames for each signal length (centered STFT)."""
        return torch.div(audio_lengths.to(torch.int64), self.hop_length, rounding_mode="floor") + 1

    def forward(self, audio: Tensor, audio_lengths: Tensor) -> Tuple[Tensor, Tensor]:
        """Features ``(batch, n_mels, frames)`` and their valid lengths ``(batch,)``.

        Args:
            audio: ``(batch, samples)`` float signal.
            audio_lengths: ``(batch,)`` valid samples per signal.
        """
        if self.preemph > 0.0:
            audio = torch.cat(
                [audio[:, :1], audio[:, 1:] - self.preemph * audio[:, :-1]], dim=1
            )
        spec = convolution_stft(
            audio,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            True,
            False,
        )
        power = spec.pow(2).sum(-1)
        mel = torch.matmul(self.mel_basis.to(power.dtype), power)
        features = torch.log(mel + self.log_guard)
        lengths = self.feature_lengths(audio_lengths)
        mask = lengths_to_mask(lengths, features.shape[-1]).unsqueeze(1)
        features = normalize_tensor(features, mask, self.normalize_guard)
        return features, lengths
