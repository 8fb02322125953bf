"""The windowed-basis cache: accurate, keyed correctly, bounded, thread-safe."""

import math
import threading

import pytest
import torch

from thunder_kernels.stft.basis import BasisCache


def _expected(window, n_fft, dtype=torch.float64):
    win = window.numel()
    left = (n_fft - win) // 2
    f = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
    n = torch.arange(left, left + win, dtype=torch.float64)[None, :]
    angle = 2 * math.pi * f * n / n_fft
    w = window.double()
    return torch.stack([torch.cos(angle) * w, -torch.sin(angle) * w]).to(dtype)


@pytest.mark.parametrize("n_fft,win", [(16, 16), (400, 400), (512, 320), (2048, 2047), (4096, 4096)])
def test_basis_accuracy(n_fft, win):
    window = torch.hann_window(win, dtype=torch.float64)
    cache = BasisCache()
    basis64 = cache.get(window, n_fft, win, torch.device("cpu"), torch.float64)
    assert basis64.shape == (2, n_fft // 2 + 1, win) and basis64.is_contiguous()
    # The direct formula's unreduced angle (up to 2*pi*n_fft/4) carries ~n_fft * 1e-16 of its own
    # error; the integer-reduced table agrees with it to that.
    assert (basis64 - _expected(window, n_fft)).abs().max().item() <= n_fft * 1e-15
    basis32 = cache.get(window, n_fft, win, torch.device("cpu"), torch.float32)
    # Cast once from float64: every entry is the correctly rounded float32 value.
    assert torch.equal(basis32, basis64.float())


def test_keys_contents_dtype_and_size():
    cache = BasisCache()
    cpu = torch.device("cpu")
    w = torch.hann_window(64)
    a = cache.get(w, 64, 64, cpu, torch.float32)
    assert cache.get(w.clone(), 64, 64, cpu, torch.float32) is a  # same contents -> same entry
    assert cache.hits == 1 and cache.misses == 1
    assert cache.get(w, 64, 64, cpu, torch.float16) is not a
    assert cache.get(w, 128, 64, cpu, torch.float32).shape == (2, 65, 64)
    assert cache.get(torch.hamming_window(64), 64, 64, cpu, torch.float32) is not a
    w.mul_(2.0)  # in-place edit: new contents, new basis
    b = cache.get(w, 64, 64, cpu, torch.float32)
    assert torch.allclose(b, 2 * a)
    assert len(cache) == 5


def test_bounded_lru():
    cache = BasisCache(max_entries=3)
    cpu = torch.device("cpu")
    windows = [torch.rand(8) for _ in range(5)]
    for w in windows:
        cache.get(w, 8, 8, cpu, torch.float32)
    assert len(cache) == 3
    misses = cache.misses
    cache.get(windows[-1], 8, 8, cpu, torch.float32)
    assert cache.misses == misses
    cache.get(windows[0], 8, 8, cpu, torch.float32)
    assert cache.misses == misses + 1


def test_threads_get_identical_bases():
    cache = BasisCache(max_entries=4)
    cpu = torch.device("cpu")
    windows = [torch.hann_window(100 + i) for i in range(6)]
    results, errors = [], []

    def work(i):
        try:
            for j in range(30):
                w = windows[(i + j) % len(windows)]
                basis = cache.get(w, 256, w.numel(), cpu, torch.float32)
                results.append((w.numel(), basis))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) <= 4
    for size, basis in results:
        assert torch.equal(basis, _expected(torch.hann_window(size), 256, torch.float32)) or (
            (basis.double() - _expected(torch.hann_window(size), 256)).abs().max() < 1e-6
        )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_device_window_keyed_by_identity_and_version():
    cache = BasisCache()
    w = torch.hann_window(64, device="cuda")
    dev = torch.device("cuda")
    a = cache.get(w, 64, 64, dev, torch.float32)
    assert cache.get(w, 64, 64, dev, torch.float32) is a
    w.mul_(0.5)
    assert torch.allclose(cache.get(w, 64, 64, dev, torch.float32), 0.5 * a)
    if torch.cuda.device_count() > 1:
        other = cache.get(w.to("cuda:1"), 64, 64, torch.device("cuda:1"), torch.float32)
        assert other.device == torch.device("cuda:1")
