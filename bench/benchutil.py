"""Timing helper shared by the pytest-benchmark files."""

import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run_benchmark(benchmark, fn, device):
    """Time ``fn`` with pytest-benchmark; CUDA work is synchronised inside each timed call."""
    if device.type == "cuda":
        def timed():
            fn()
            torch.cuda.synchronize()
    else:
        timed = fn
    benchmark.extra_info["device"] = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    benchmark.extra_info["threads"] = torch.get_num_threads()
    benchmark.pedantic(timed, warmup_rounds=1, rounds=10 if device.type == "cpu" else 50, iterations=1)
