"""Ahead-of-time compilation of every kernel configuration for sm_80 and sm_90 (no GPU needed)."""

import pytest

from thunder_kernels import _aot
from thunder_kernels.normalize import launchers as normalize_launchers
from thunder_kernels.stft import launchers as stft_launchers

pytestmark = pytest.mark.compile

CASES = {
    "stft": stft_launchers.compile_cases(),
    "normalize": normalize_launchers.compile_cases(),
}
# Shared memory per block: sm_80 (A100) 163 KiB, sm_90 (H100) 227 KiB.
SHARED_LIMIT = {80: 163 * 1024, 90: 227 * 1024}
TENSOR_CORE_KERNELS = {"stft_forward_kernel", "stft_backward_frames_kernel"}


@pytest.fixture(scope="module")
def report():
    entries = _aot.compile_all_in_subprocess()
    return {(e["op"], e["index"], e["capability"]): e for e in entries}


PARAMS = [
    pytest.param(op, i, cap, id=f"{op}-{case[0]}-{i}-sm{cap}")
    for op, cases in CASES.items()
    for i, case in enumerate(cases)
    for cap in _aot.CAPABILITIES
]


@pytest.mark.parametrize("op,index,capability", PARAMS)
def test_compiles(report, op, index, capability):
    entry = report[(op, index, capability)]
    assert entry["ok"], entry.get("error")
    assert entry["target"] and entry["cubin"]
    assert entry["shared"] <= SHARED_LIMIT[capability]
    name, signature, constexprs, _ = CASES[op][index]
    on_tensor_cores = signature[next(iter(signature))] != "*fp32" or constexprs.get("PRECISION") != "ieee"
    if name in TENSOR_CORE_KERNELS and on_tensor_cores:
        # Warpgroup MMA on Hopper, mma.sync on Ampere.
        assert entry["wgmma"] if capability == 90 else entry["mma_sync"]


def test_every_kernel_is_covered():
    names = {case[0] for cases in CASES.values() for case in cases}
    assert names == {
        "stft_forward_kernel", "stft_backward_frames_kernel", "stft_backward_overlap_add_kernel",
        "normalize_rows_kernel", "normalize_partials_kernel", "normalize_apply_kernel",
    }
