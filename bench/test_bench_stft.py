"""pytest-benchmark suite for convolution_stft: every provider, every mode, shapes from real use."""

import pytest
import torch

from thunder_kernels.benchmark import MODES, StftCase, make_call, stft_cases, stft_providers

from benchutil import run_benchmark

TINY = StftCase("tiny", 2, 1000, 64, 16, 48)
PROVIDERS = sorted(set(stft_providers(torch.device("cuda"))) | set(stft_providers(torch.device("cpu"))))


@pytest.mark.parametrize("case", stft_cases(quick=True), ids=lambda c: c.label)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_stft(benchmark, smoke, device, case, mode, provider):
    providers = stft_providers(torch.device("cuda"))  # includes the fused kernels
    if provider == "fused (triton)" and device.type != "cuda" and not smoke:
        pytest.skip("interpreter timings mean nothing; the fused kernels are timed on a GPU")
    if provider not in providers:
        pytest.skip(f"{provider} is not installed")
    case = TINY if smoke else case
    fn = make_call(case, providers[provider], mode, device, torch.float32)
    benchmark.group = f"stft {case.label} {mode}"
    run_benchmark(benchmark, fn, device)
    out = providers[provider](*case.make(device, torch.float32), case)
    assert out.shape == (case.batch, case.n_fft // 2 + 1, case.frames(), 2)
