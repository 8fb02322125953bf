import os

import pytest
import torch

# Kernel tests run the real Triton code in the interpreter on CPU tensors when no GPU is present.
# It must be set before any @triton.jit kernel module is imported.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from thunder_kernels import _alloc  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
KERNEL_DEVICE = "cuda" if HAS_CUDA else "cpu"


def pytest_configure(config):
    # Launchers fill outputs with NaN before every launch: an element a kernel forgets shows up.
    _alloc.POISON = True


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    yield


@pytest.fixture
def kernel_device():
    """CUDA when present, else CPU with TRITON_INTERPRET=1; the Triton backend is forced."""
    return KERNEL_DEVICE


@pytest.fixture
def triton_backend(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "triton")
    yield


@pytest.fixture
def torch_backend(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "torch")
    yield
