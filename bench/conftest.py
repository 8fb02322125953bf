import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from benchutil import DEVICE  # noqa: E402


@pytest.fixture
def device():
    return DEVICE


@pytest.fixture
def smoke(benchmark):
    """True under --benchmark-disable: each benchmark runs once, on tiny shapes (the CI smoke test)."""
    return bool(getattr(benchmark, "disabled", False))
