"""The one dispatch rule shared by every op.

``select_backend`` answers which implementation runs for a call:

1. a graph is being captured for export (TorchScript scripting or tracing, legacy ONNX export,
   ``torch.export`` and the dynamo ONNX exporter) -> ``"graph"``: the pure-torch formulation that
   scripts and exports;
2. ``THUNDER_KERNELS_BACKEND`` is ``torch``/``triton``/``cuda`` -> that backend (an impossible
   request is an error, never a silent fallback);
3. ``auto`` (the default): every tensor on a CUDA device and Triton importable -> ``"triton"``,
   otherwise ``"torch"``.

``torch.compile`` is not an export: under it the rule still picks the fused kernels, which are
registered ``torch.library`` ops and trace without a graph break.

Nothing here touches ``torch.cuda`` or imports Triton at import time.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Optional

import torch

__all__ = ["BACKENDS", "ENV_VAR", "requested_backend", "select_backend", "triton_available"]

ENV_VAR = "THUNDER_KERNELS_BACKEND"
BACKENDS = ("auto", "torch", "triton", "cuda")

_triton_available: Optional[bool] = None


def triton_available() -> bool:
    """Whether Triton can be imported (checked once, without importing it)."""
    global _triton_available
    if _triton_available is None:
        _triton_available = importlib.util.find_spec("triton") is not None
    return _triton_available


def _triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def requested_backend() -> str:
    """The backend asked for through ``THUNDER_KERNELS_BACKEND`` (``auto`` when unset).

    Raises:
        ValueError: the variable holds something other than auto, torch, triton or cuda.
    """
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value not in BACKENDS:
        raise ValueError(
            f"{ENV_VAR}={value!r} is not a backend; use one of {', '.join(BACKENDS)}"
        )
    return value


def capturing_graph() -> bool:
    """True while a graph is being recorded for scripting, tracing or export."""
    return (
        torch.jit.is_scripting()
        or torch.jit.is_tracing()
        or torch.compiler.is_exporting()
    )


def select_backend(*tensors: Optional[torch.Tensor]) -> str:
    """Pick the implementation for one call: ``"graph"``, ``"torch"`` or ``"triton"``.

    Args:
        tensors: the call's tensor arguments (``None`` entries are ignored).

    Returns:
        The backend name.

    Raises:
        RuntimeError: the requested backend cannot run these tensors (Triton missing, CPU tensors
            without ``TRITON_INTERPRET=1``, or the CUDA C++ backend, which this build lacks).
    """
    if capturing_graph():
        return "graph"
    present = [t for t in tensors if t is not None]
    requested = requested_backend()
    if requested == "torch":
        return "torch"
    if requested == "cuda":
        raise RuntimeError(
            f"{ENV_VAR}=cuda: this build of thunder_kernels has no CUDA C++ backend; "
            "use auto, torch or triton"
        )
    on_cuda = bool(present) and all(t.is_cuda for t in present)
    if requested == "triton":
        if not triton_available():
            raise RuntimeError(
                f"{ENV_VAR}=triton but Triton is not installed; pip install triton"
            )
        if not on_cuda and not _triton_interpreting():
            raise RuntimeError(
                f"{ENV_VAR}=triton with CPU tensors needs TRITON_INTERPRET=1 "
                "(Triton's interpreter); move the tensors to a CUDA device otherwise"
            )
        return "triton"
    if on_cuda and triton_available():
        return "triton"
    return "torch"
