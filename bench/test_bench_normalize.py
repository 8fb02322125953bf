"""pytest-benchmark suite for normalize_tensor: every provider, every mode, real feature shapes."""

import pytest
import torch

from thunder_kernels.benchmark import MODES, NormalizeCase, make_call, normalize_cases, normalize_providers

from benchutil import run_benchmark

PROVIDERS = sorted(set(normalize_providers(torch.device("cuda"))) | set(normalize_providers(torch.device("cpu"))))


@pytest.mark.parametrize("case", normalize_cases(quick=True), ids=lambda c: c.label)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_normalize(benchmark, smoke, device, case, mode, provider):
    providers = normalize_providers(torch.device("cuda"))
    if provider == "fused (triton)" and device.type != "cuda" and not smoke:
        pytest.skip("interpreter timings mean nothing; the fused kernels are timed on a GPU")
    if provider not in providers:
        pytest.skip(f"{provider} is not installed")
    if smoke:
        case = NormalizeCase("tiny", (2, 3, 37) if len(case.shape) == 3 else (2, 101), case.masking, case.div_guard)
    fn = make_call(case, providers[provider], mode, device, torch.float32)
    benchmark.group = f"normalize {case.label} {mode}"
    run_benchmark(benchmark, fn, device)
    out = providers[provider](*case.make(device, torch.float32), case)
    assert out.shape == case.shape and torch.isfinite(out).all()
