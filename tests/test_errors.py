"""Every bad input gets a clear exception naming the argument (one case per input)."""

import re

import pytest
import torch

import thunder_kernels as tk

x2 = torch.randn(2, 1000)
w400 = torch.hann_window(400)

STFT_CASES = {
    "input not a tensor": (lambda: tk.convolution_stft([0.0] * 1000, 16, 4, 16, None), TypeError, "input_data must be a torch.Tensor"),
    "integer input": (lambda: tk.convolution_stft(torch.ones(2, 1000, dtype=torch.int64), 16, 4, 16, None), TypeError, "input_data must be a real floating tensor"),
    "complex input": (lambda: tk.convolution_stft(torch.ones(2, 1000, dtype=torch.complex64), 16, 4, 16, None), TypeError, "input_data must be a real floating tensor"),
    "0-d input": (lambda: tk.convolution_stft(torch.tensor(1.0), 16, 4, 16, None), ValueError, "at least one dimension"),
    "float n_fft": (lambda: tk.convolution_stft(x2, 512.0, 160, 400, w400), TypeError, "n_fft must be an int"),
    "n_fft < 1": (lambda: tk.convolution_stft(x2, 0, 1, 1, None), ValueError, "n_fft must be >= 1"),
    "hop < 1": (lambda: tk.convolution_stft(x2, 512, 0, 400, w400), ValueError, "hop_length must be >= 1"),
    "bool hop": (lambda: tk.convolution_stft(x2, 512, True, 400, w400), TypeError, "hop_length must be an int"),
    "n_fft < win_length": (lambda: tk.convolution_stft(x2, 256, 64, 400, w400), ValueError, "win_length must satisfy 1 <= win_length <= n_fft"),
    "window length != win_length": (lambda: tk.convolution_stft(x2, 512, 160, 320, w400), ValueError, r"window must be 1-D with win_length=320 samples, got shape \[400\]"),
    "2-d window": (lambda: tk.convolution_stft(x2, 512, 160, 400, w400[None]), ValueError, "window must be 1-D"),
    "integer window": (lambda: tk.convolution_stft(x2, 512, 160, 400, torch.ones(400, dtype=torch.int32)), TypeError, "window must be a real floating tensor"),
    "window not a tensor": (lambda: tk.convolution_stft(x2, 512, 160, 400, [1.0] * 400), TypeError, "window must be a torch.Tensor"),
    "signal too short for reflect": (lambda: tk.convolution_stft(torch.randn(2, 256), 512, 160, 400, w400), ValueError, r"needs more than n_fft // 2 = 256 samples for reflect padding, got 256"),
    "signal too short, center=False": (lambda: tk.convolution_stft(torch.randn(2, 500), 512, 160, 400, w400, False), ValueError, r"center=False the signal needs at least n_fft = 512 samples, got 500"),
    "bf16 complex output": (lambda: tk.convolution_stft(x2.bfloat16(), 512, 160, 400, w400, True, True), TypeError, "no bfloat16 complex dtype"),
    "bad precision": (lambda: tk.convolution_stft(x2, 512, 160, 400, w400, precision="fp16"), ValueError, "precision must be None or one of ieee, tf32x3, tf32"),
}

x3 = torch.randn(2, 3, 50)
NORMALIZE_CASES = {
    "input not a tensor": (lambda: tk.normalize_tensor([1.0, 2.0]), TypeError, "input_values must be a torch.Tensor"),
    "integer input": (lambda: tk.normalize_tensor(torch.ones(3, 4, dtype=torch.int32)), TypeError, "input_values must be a real floating tensor"),
    "0-d input": (lambda: tk.normalize_tensor(torch.tensor(1.0)), ValueError, "at least one dimension"),
    "dim out of range": (lambda: tk.normalize_tensor(x3, dim=3), ValueError, r"dim=3 is out of range for a 3-d input \(valid: -3 to 2\)"),
    "float dim": (lambda: tk.normalize_tensor(x3, dim=1.0), TypeError, "dim must be an int"),
    "negative div_guard": (lambda: tk.normalize_tensor(x3, div_guard=-1.0), ValueError, "div_guard must be a finite number >= 0"),
    "nan div_guard": (lambda: tk.normalize_tensor(x3, div_guard=float("nan")), ValueError, "div_guard must be a finite number >= 0"),
    "string div_guard": (lambda: tk.normalize_tensor(x3, div_guard="1e-5"), TypeError, "div_guard must be a float"),
    "mask not a tensor": (lambda: tk.normalize_tensor(x3, [[True] * 50]), TypeError, "mask must be a torch.Tensor"),
    "mask not broadcastable": (lambda: tk.normalize_tensor(x3, torch.ones(2, 3, 49, dtype=torch.bool)), ValueError, r"mask of shape \[2, 3, 49\] does not broadcast to input_values of shape \[2, 3, 50\]"),
    "mask with more dims": (lambda: tk.normalize_tensor(x3, torch.ones(1, 2, 3, 50, dtype=torch.bool)), ValueError, "does not broadcast"),
    "complex mask": (lambda: tk.normalize_tensor(x3, torch.ones(2, 1, 50, dtype=torch.complex64)), TypeError, "mask must be bool, integer or real"),
    "mask and lengths": (lambda: tk.normalize_tensor(x3, torch.ones(2, 1, 50), lengths=torch.tensor([1, 2])), ValueError, "either mask or lengths, not both"),
    "lengths wrong shape": (lambda: tk.normalize_tensor(x3, lengths=torch.tensor([1, 2, 3])), ValueError, r"lengths must have shape \(2,\)"),
    "lengths 2-d": (lambda: tk.normalize_tensor(x3, lengths=torch.tensor([[1], [2]])), ValueError, r"lengths must have shape \(2,\)"),
    "bool lengths": (lambda: tk.normalize_tensor(x3, lengths=torch.tensor([True, False])), TypeError, "lengths must be an integer or real tensor"),
    "lengths along batch dim": (lambda: tk.normalize_tensor(x3, lengths=torch.tensor([1, 2]), dim=0), ValueError, "dim != 0"),
    "lengths on 1-d input": (lambda: tk.normalize_tensor(torch.randn(9), lengths=torch.tensor([3])), ValueError, "needs a batched input"),
    "lengths not a tensor": (lambda: tk.normalize_tensor(x3, lengths=[1, 2]), TypeError, "lengths must be a torch.Tensor"),
}


@pytest.mark.parametrize("case", sorted(STFT_CASES))
def test_convolution_stft_bad_input(case):
    call, exc, message = STFT_CASES[case]
    with pytest.raises(exc, match=message) as info:
        call()
    assert str(info.value).startswith("convolution_stft:")


@pytest.mark.parametrize("case", sorted(NORMALIZE_CASES))
def test_normalize_tensor_bad_input(case):
    call, exc, message = NORMALIZE_CASES[case]
    with pytest.raises(exc, match=message) as info:
        call()
    assert str(info.value).startswith("normalize_tensor:")


def test_bad_backend_variable(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "gpu")
    with pytest.raises(ValueError, match=re.escape("THUNDER_KERNELS_BACKEND='gpu' is not a backend; use one of auto, torch, triton, cuda")):
        tk.normalize_tensor(x3)


def test_cuda_backend_is_not_built(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA C\\+\\+ backend"):
        tk.convolution_stft(x2, 512, 160, 400, w400)


def test_triton_backend_on_cpu_without_interpreter(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(RuntimeError, match="needs TRITON_INTERPRET=1"):
        tk.normalize_tensor(x3)
