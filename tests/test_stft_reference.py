"""The pure-torch STFT paths against thunder 3.2.0 and the float64 torch.stft oracle."""

import pytest
import torch
import thunder.blocks as seed
from hypothesis import given, settings, strategies as st

import thunder_kernels as tk
from thunder_kernels.stft import reference
from thunder_kernels.stft.reference import stft_fft, stft_graph

from helpers import max_abs, rel_err, stft64

pytestmark = pytest.mark.usefixtures("torch_backend")

FORMULATIONS = {
    "public": lambda x, n, h, w, win, c, rc: tk.convolution_stft(x, n, h, w, win, c, rc),
    "graph": stft_graph,
    "fft": stft_fft,
}


def _hops(n_fft):
    return sorted({1, 3, max(1, n_fft // 3), n_fft})


def _length(n_fft, hop):
    # Few frames keep the seed's O(N^2) convolution cheap; hop 1 gets a signal just past the
    # reflect limit, the others a tail that does not fill a hop.
    return n_fft // 2 + 9 if hop == 1 else 2 * n_fft + 3 * hop + 5


CASES = [
    (n_fft, hop, win)
    for n_fft in (16, 64, 257, 400, 512, 1024, 2048)
    for hop in _hops(n_fft)
    for win in sorted({n_fft, (3 * n_fft) // 4 + 1})
]


@pytest.mark.parametrize("n_fft,hop,win", CASES)
def test_parity_with_seed_and_float64(n_fft, hop, win):
    x = torch.randn(2, _length(n_fft, hop))
    window = torch.hann_window(win, periodic=False)
    ref = stft64(x, n_fft, hop, win, window)
    theirs = seed.convolution_stft(x, n_fft, hop, win, window)
    seed_err = rel_err(theirs, ref)
    for name, fn in FORMULATIONS.items():
        ours = fn(x, n_fft, hop, win, window, True, False)
        assert ours.shape == theirs.shape == ref.shape, name
        assert ours.dtype == torch.float32 and ours.is_contiguous(), name
        err = rel_err(ours, ref)
        assert err <= 1e-6, (name, err, seed_err)
        # Parity: within the seed's own distance from float64 (the flash-attention rule).
        assert rel_err(ours, theirs) <= 2 * seed_err + 1e-6, name


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
@pytest.mark.parametrize("n_fft,hop,win", [(16, 4, 12), (257, 64, 200), (512, 160, 400)])
def test_center_false(name, n_fft, hop, win):
    x = torch.randn(3, 4 * n_fft + 7)
    window = torch.hann_window(win)
    out = FORMULATIONS[name](x, n_fft, hop, win, window, False, False)
    ref = stft64(x, n_fft, hop, win, window, center=False)
    assert out.shape == ref.shape
    assert rel_err(out, ref) <= 1e-6


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
@pytest.mark.parametrize("shape", [(1000,), (3, 1000), (2, 3, 1000), (2, 1, 2, 1000)])
def test_any_leading_dims(name, shape):
    x = torch.randn(shape)
    window = torch.hann_window(200)
    out = FORMULATIONS[name](x, 256, 100, 200, window, True, False)
    ref = stft64(x, 256, 100, 200, window)
    assert out.shape == (*shape[:-1], 129, 11, 2)
    assert rel_err(out, ref) <= 1e-6


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
def test_non_contiguous_input(name):
    base = torch.randn(4000, 3)
    x = base.t()[:, ::2]  # (3, 2000), strides (1, 6)
    assert not x.is_contiguous()
    window = torch.hann_window(300)
    out = FORMULATIONS[name](x, 400, 160, 300, window, True, False)
    assert rel_err(out, stft64(x, 400, 160, 300, window)) <= 1e-6
    assert rel_err(out, seed.convolution_stft(x.contiguous(), 400, 160, 300, window)) <= 1e-4


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
def test_return_complex_and_rectangular_window(name):
    x = torch.randn(2, 900)
    out = FORMULATIONS[name](x, 128, 50, 100, None, True, True)
    ref = torch.stft(x.double(), 128, 50, 100, None, center=True, return_complex=True)
    assert out.dtype == torch.complex64 and out.shape == ref.shape
    assert rel_err(out, ref) <= 1e-6


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_dtypes(name, dtype):
    x = torch.randn(2, 3000).to(dtype)
    window = torch.hann_window(400)
    out = FORMULATIONS[name](x, 512, 160, 400, window, True, False)
    assert out.dtype == dtype
    ref = stft64(x, 512, 160, 400, window)
    # Computed in fp32 (float64 for float64); the only error left is the output rounding.
    tol = {torch.float16: 2e-3, torch.bfloat16: 1e-2, torch.float64: 1e-12}[dtype]
    assert rel_err(out, ref) <= tol


def test_default_window_matches_seed():
    x = torch.randn(2, 5000)
    assert rel_err(tk.convolution_stft(x), seed.convolution_stft(x)) <= 1e-4
    assert rel_err(tk.convolution_stft(x), stft64(x, 1024, 512, 1024, torch.hann_window(1024, periodic=False))) <= 1e-6


@pytest.mark.parametrize("name", ["public", "graph"])
def test_gradient_matches_seed(name):
    x = torch.randn(2, 3000, requires_grad=True)
    window = torch.hann_window(400)
    probe = torch.randn(2, 257, 19, 2)
    (FORMULATIONS[name](x, 512, 160, 400, window, True, False) * probe).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    (seed.convolution_stft(x, 512, 160, 400, window) * probe).sum().backward()
    assert rel_err(ours, x.grad) <= 1e-4


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
@pytest.mark.parametrize("center", [True, False])
def test_gradcheck_float64(name, center):
    x = torch.randn(2, 40, dtype=torch.float64, requires_grad=True)
    window = torch.rand(12, dtype=torch.float64, requires_grad=True)
    fn = FORMULATIONS[name]
    assert torch.autograd.gradcheck(lambda a, w: fn(a, 16, 5, 12, w, center, False), (x, window))


@settings(max_examples=40, deadline=None)
@given(
    n_fft=st.integers(1, 300),
    win_frac=st.floats(0.01, 1.0),
    hop=st.integers(1, 400),
    center=st.booleans(),
    extra=st.integers(0, 700),
    batch=st.integers(1, 3),
)
def test_fuzz_against_float64(n_fft, win_frac, hop, center, extra, batch):
    win = max(1, min(n_fft, round(win_frac * n_fft)))
    length = (n_fft // 2 + 1 if center else n_fft) + extra
    x = torch.randn(batch, length)
    window = torch.rand(win) + 0.1
    ref = stft64(x, n_fft, hop, win, window, center)
    for name in ("public", "graph"):
        out = FORMULATIONS[name](x, n_fft, hop, win, window, center, False)
        assert out.shape == ref.shape, name
        assert rel_err(out, ref) <= 1e-6, name



@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n_fft,win", [(512, 320), (511, 400), (64, 64)])
def test_fft_formulation_is_torch_stft_contiguous(center, n_fft, win):
    # The eager product writes torch.stft's algorithm out by hand; it must agree with it
    # (reflect padding, odd n_fft, centred window) and hand back the seed's contiguous layout.
    x = torch.randn(3, 2, 4001)
    window = torch.hann_window(win)
    ours = stft_fft(x, n_fft, 160, win, window, center, False)
    theirs = torch.view_as_real(torch.stft(
        x.reshape(6, -1), n_fft, 160, win, window, center=center, pad_mode="reflect", return_complex=True
    )).reshape(ours.shape)
    assert ours.is_contiguous()
    assert max_abs(ours, theirs) <= 1e-5 * theirs.abs().max().item()


@pytest.mark.parametrize("block_bytes", [1, 5000, 200_000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
@pytest.mark.parametrize("center", [True, False])
def test_cpu_blocks_match_one_pass(monkeypatch, block_bytes, dtype, center):
    # Without autograd the CPU path works in blocks of rows (or of frames, for long rows);
    # the result must not depend on the block size. 1 byte: one frame per block.
    x = torch.randn(3, 2, 4000).to(dtype)
    window = torch.hann_window(320)
    with torch.enable_grad():
        whole = stft_fft(x.requires_grad_(), 512, 160, 320, window, center, False).detach()
    monkeypatch.setattr(reference, "_CPU_BLOCK_BYTES", block_bytes)
    with torch.no_grad():
        blocked = stft_fft(x, 512, 160, 320, window, center, False)
        blocked_complex = stft_fft(x, 512, 160, 320, window, center, True)
    assert blocked.dtype == dtype and blocked.is_contiguous()
    assert torch.equal(blocked, whole)
    assert torch.equal(torch.view_as_real(blocked_complex).to(dtype), whole)
