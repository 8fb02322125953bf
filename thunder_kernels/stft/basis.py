"""The windowed Fourier basis the fused kernels multiply by, built once and cached.

Entries are keyed by ``(n_fft, win_length, window, device, dtype)``. A CPU window is keyed by its
contents (its bytes), so equal windows share an entry whatever tensor object holds them. A window
on an accelerator is keyed by identity and version counter instead: reading its contents would
force a device-to-host synchronisation on every call. An in-place edit bumps the version and so
rebuilds the basis; a new tensor with the same values builds a new entry. The cache is a bounded
LRU guarded by a lock, so threads and several devices share it safely.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Hashable, Optional, Tuple

import torch
from torch import Tensor

from .reference import dft_table

__all__ = ["BasisCache", "windowed_basis", "basis_cache"]


class BasisCache:
    """A thread-safe LRU of windowed bases, at most ``max_entries`` of them."""

    def __init__(self, max_entries: int = 32) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: "OrderedDict[Hashable, Tuple[Optional[weakref.ref], Tensor]]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    @staticmethod
    def _key(
        window: Optional[Tensor], n_fft: int, win_length: int, device: torch.device, dtype: torch.dtype
    ) -> Tuple[Hashable, Optional[Tensor]]:
        if window is None:
            fingerprint: Hashable = ("rectangular",)
            owner = None
        elif window.device.type == "cpu":
            contents = window.detach().to(torch.float64).contiguous()
            fingerprint = ("contents", contents.numpy().tobytes())
            owner = None
        else:
            fingerprint = ("tensor", id(window), window._version, str(window.device))
            owner = window
        return (n_fft, win_length, str(device), dtype, fingerprint), owner

    def get(
        self,
        window: Optional[Tensor],
        n_fft: int,
        win_length: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> Tensor:
        """The basis ``(2, n_fft // 2 + 1, win_length)``, contiguous, on ``device`` in ``dtype``.

        Row block 0 is the real part, block 1 the imaginary part, each multiplied by the window.
        """
        key, owner = self._key(window, n_fft, win_length, device, dtype)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                ref, basis = entry
                # id() may be reused after the window dies; the weak reference tells.
                if ref is None or ref() is owner:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return basis
                del self._entries[key]
            self.misses += 1
        basis = _build(window, n_fft, win_length, device, dtype)
        with self._lock:
            self._entries[key] = (weakref.ref(owner) if owner is not None else None, basis)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return basis


def _build(
    window: Optional[Tensor], n_fft: int, win_length: int, device: torch.device, dtype: torch.dtype
) -> Tensor:
    build_device = window.device if window is not None else device
    table = dft_table(n_fft, win_length, build_device)
    if window is not None:
        table = table * window.detach().to(torch.float64)
    num_bins = n_fft // 2 + 1
    basis = table.reshape(2, num_bins, win_length)
    return basis.to(device=device, dtype=dtype).contiguous()


basis_cache = BasisCache()


def windowed_basis(
    window: Optional[Tensor], n_fft: int, win_length: int, device: torch.device, dtype: torch.dtype
) -> Tensor:
    """The shared cache's basis for these arguments (see ``BasisCache.get``)."""
    return basis_cache.get(window, n_fft, win_length, device, dtype)
