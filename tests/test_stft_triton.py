"""The fused Triton STFT (interpreter on CPU, real kernels on a GPU) against float64 and the reference."""

import pytest
import torch

import thunder_kernels as tk
from thunder_kernels.stft import ops
from thunder_kernels.stft.reference import stft_fft

from helpers import rel_err, stft64

pytestmark = pytest.mark.usefixtures("triton_backend")

CASES = [
    # n_fft, hop, win, samples, center
    (16, 1, 16, 9, True),  # just above the reflect limit, hop 1
    (16, 5, 11, 40, False),
    (64, 7, 64, 333, True),  # odd hop, a tail that fills no block
    (64, 64, 40, 257, True),  # hop = n_fft, win < n_fft
    (257, 31, 257, 1031, True),  # odd n_fft
    (257, 100, 200, 600, False),
    (400, 160, 400, 2411, True),  # Whisper
    (512, 160, 320, 3001, True),
    (512, 512, 512, 257, True),  # hop = n_fft, signal just above the reflect limit
]


def _close(dtype):
    return {torch.float32: 1e-5, torch.float16: 3e-3}[dtype]


@pytest.mark.parametrize("n_fft,hop,win,samples,center", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_forward_and_gradient(kernel_device, n_fft, hop, win, samples, center, dtype):
    x = torch.randn(2, samples, device=kernel_device).to(dtype)
    window = torch.hann_window(win, device=kernel_device)
    out = tk.convolution_stft(x, n_fft, hop, win, window, center)
    ref = stft64(x, n_fft, hop, win, window, center)
    assert out.shape == ref.shape and out.dtype == dtype and out.is_contiguous()
    assert not torch.isnan(out).any()
    assert rel_err(out, ref) <= _close(dtype)

    xg = x.clone().requires_grad_()
    probe = torch.randn(ref.shape, device=kernel_device).to(dtype)
    (tk.convolution_stft(xg, n_fft, hop, win, window, center) * probe).sum().backward()
    x64 = x.detach().double().cpu().requires_grad_()
    (stft64(x64, n_fft, hop, win, window.double().cpu(), center) * probe.double().cpu()).sum().backward()
    assert rel_err(xg.grad, x64.grad) <= _close(dtype)


@pytest.mark.parametrize("shape", [(700,), (3, 700), (2, 2, 700)])
def test_leading_dims_and_complex(kernel_device, shape):
    x = torch.randn(shape, device=kernel_device)
    window = torch.hann_window(100, device=kernel_device)
    out = tk.convolution_stft(x, 128, 33, 100, window)
    assert out.shape == (*shape[:-1], 65, 22, 2)
    assert rel_err(out, stft64(x, 128, 33, 100, window)) <= 1e-5
    spec = tk.convolution_stft(x, 128, 33, 100, window, True, True)
    assert spec.dtype == torch.complex64 and torch.equal(torch.view_as_real(spec), out)


def test_non_contiguous_input_and_gradient(kernel_device):
    base = torch.randn(1500, 3, device=kernel_device)
    x = base.t()[:, ::2].requires_grad_()  # (3, 750), strides (1, 6)
    window = torch.hann_window(90, device=kernel_device)
    out = tk.convolution_stft(x, 128, 40, 90, window)
    assert rel_err(out, stft64(x, 128, 40, 90, window)) <= 1e-5
    # A non-contiguous upstream gradient, read through its strides.
    probe = torch.randn(out.shape[:-1] + (4,), device=kernel_device)[..., ::2]
    (out * probe).sum().backward()
    x64 = x.detach().double().cpu().requires_grad_()
    (stft64(x64, 128, 40, 90, window.double().cpu()) * probe.double().cpu()).sum().backward()
    assert rel_err(x.grad, x64.grad) <= 1e-5


def test_matches_torch_backend(kernel_device, monkeypatch):
    x = torch.randn(3, 4000, device=kernel_device)
    window = torch.hann_window(400, device=kernel_device)
    fused = tk.convolution_stft(x, 512, 160, 400, window)
    reference = stft_fft(x, 512, 160, 400, window, True, False)
    assert rel_err(fused, reference) <= 1e-5


@pytest.mark.parametrize("precision,tol", [("ieee", 1e-5), ("tf32x3", 1e-5), ("tf32", 3e-3)])
def test_precision_modes(kernel_device, precision, tol):
    x = torch.randn(2, 3000, device=kernel_device)
    window = torch.hann_window(400, device=kernel_device)
    out = tk.convolution_stft(x, 512, 160, 400, window, precision=precision)
    assert rel_err(out, stft64(x, 512, 160, 400, window)) <= tol


def test_trainable_window_runs_the_reference(kernel_device):
    x = torch.randn(2, 600, device=kernel_device)
    window = torch.hann_window(64, device=kernel_device).requires_grad_()
    out = tk.convolution_stft(x, 64, 16, 64, window)
    out.pow(2).sum().backward()
    assert window.grad is not None and torch.isfinite(window.grad).all()


def test_opcheck(kernel_device):
    x = torch.randn(2, 300, device=kernel_device)
    window = torch.hann_window(50, device=kernel_device)
    torch.library.opcheck(
        ops.stft_op, (x, window, 64, 20, 50, True, "ieee"),
        test_utils=("test_schema", "test_faketensor", "test_autograd_registration"),
    )
    grad = torch.randn(2, 33, 16, 2, device=kernel_device)
    torch.library.opcheck(
        ops.stft_backward_op, (grad, window, 64, 20, 50, True, 300, "ieee"),
        test_utils=("test_schema", "test_faketensor"),
    )


def test_compile_fullgraph_no_graph_break(kernel_device):
    window = torch.hann_window(100, device=kernel_device)

    def power(x):
        return tk.convolution_stft(x, 128, 50, 100, window).pow(2).sum(-1)

    x = torch.randn(2, 900, device=kernel_device, requires_grad=True)
    # On CPU the ops run in the interpreter, so the graph is built but not lowered to kernels.
    backend = "inductor" if kernel_device == "cuda" else "aot_eager"
    compiled = torch.compile(power, fullgraph=True, backend=backend)
    out = compiled(x)
    assert rel_err(out, power(x)) <= 1e-6
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_bfloat16_tensor_cores_and_cuda_graph():
    x = torch.randn(4, 32000, device="cuda")
    window = torch.hann_window(400, device="cuda")
    out = tk.convolution_stft(x.bfloat16(), 512, 160, 400, window)
    assert out.dtype == torch.bfloat16
    assert rel_err(out, stft64(x.bfloat16(), 512, 160, 400, window)) <= 2e-2
    static = x.clone()
    tk.convolution_stft(static, 512, 160, 400, window)  # warm the basis cache and the JIT
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = tk.convolution_stft(static, 512, 160, 400, window)
    static.copy_(torch.randn_like(static))
    graph.replay()
    assert rel_err(captured, stft64(static, 512, 160, 400, window)) <= 1e-5
