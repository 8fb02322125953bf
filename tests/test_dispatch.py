"""The one dispatch rule: graph capture -> graph, override -> that backend, auto -> by device."""

import subprocess
import sys

import pytest
import torch

import thunder_kernels as tk
from thunder_kernels import _dispatch


def test_auto_on_cpu_is_torch(monkeypatch):
    monkeypatch.delenv("THUNDER_KERNELS_BACKEND", raising=False)
    assert tk.select_backend(torch.zeros(3)) == "torch"


def test_override_torch_and_triton(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "torch")
    assert tk.select_backend(torch.zeros(3)) == "torch"
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert tk.select_backend(torch.zeros(3)) == "triton"


def test_tracing_selects_graph(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "triton")
    seen = []

    def probe(x):
        seen.append(_dispatch.select_backend(x))
        return x * 2

    torch.jit.trace(probe, torch.zeros(3), check_trace=False)
    assert seen and set(seen) == {"graph"}


def test_torch_export_selects_graph(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "triton")
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(_dispatch.select_backend(x))
            return x * 2

    torch.export.export(Probe(), (torch.zeros(3),))
    assert seen and set(seen) == {"graph"}


def test_compile_is_not_export(monkeypatch):
    monkeypatch.setenv("THUNDER_KERNELS_BACKEND", "torch")
    seen = []

    def probe(x):
        seen.append(_dispatch.select_backend(x))
        return x * 2

    torch.compile(probe, backend="eager", fullgraph=True)(torch.zeros(3))
    assert seen == ["torch"]


def test_import_touches_neither_cuda_nor_triton():
    code = (
        "import sys, torch\n"
        "torch.cuda.is_available = lambda: (_ for _ in ()).throw(AssertionError('cuda touched'))\n"
        "torch.cuda.init = lambda: (_ for _ in ()).throw(AssertionError('cuda touched'))\n"
        "import thunder_kernels, thunder_kernels.blocks\n"
        "assert 'triton' not in sys.modules, 'triton imported'\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"
