"""Output allocation for the launchers.

``POISON = True`` (set by the test suite) fills every kernel output with NaN (or the integer
minimum) before the launch, so an element a kernel never writes cannot pass for a correct one.
"""

import torch

POISON = False


def empty(shape, dtype: torch.dtype, device) -> torch.Tensor:
    out = torch.empty(shape, dtype=dtype, device=device)
    if POISON:
        if out.is_floating_point():
            out.fill_(float("nan"))
        else:
            out.fill_(torch.iinfo(dtype).min)
    return out


def empty_like(x: torch.Tensor) -> torch.Tensor:
    """``torch.empty_like`` (same strides for dense tensors), poisoned like ``empty``."""
    out = torch.empty_like(x)
    if POISON:
        out.fill_(float("nan") if out.is_floating_point() else torch.iinfo(out.dtype).min)
    return out
