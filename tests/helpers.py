"""Oracles and error measures shared by the tests (DESIGN.md section 5)."""

import torch


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    """Relative norm error ||out - ref|| / ||ref||, computed in float64."""
    out = torch.view_as_real(out) if out.is_complex() else out
    ref = torch.view_as_real(ref) if ref.is_complex() else ref
    out, ref = out.detach().double().cpu(), ref.detach().double().cpu()
    denom = ref.norm().item()
    return (out - ref).norm().item() / (denom if denom > 0 else 1.0)


def max_abs(out: torch.Tensor, ref: torch.Tensor) -> float:
    return (out.detach().double().cpu() - ref.detach().double().cpu()).abs().max().item()


def stft64(x, n_fft, hop, win_length, window, center=True):
    """Float64 torch.stft oracle, real output (..., F, frames, 2)."""
    shape = x.shape
    x64 = x.double().cpu().reshape(-1, shape[-1])
    w64 = None if window is None else window.double().cpu()
    spec = torch.stft(
        x64, n_fft, hop, win_length, w64, center=center, pad_mode="reflect", return_complex=True
    )
    out = torch.view_as_real(spec)
    return out.reshape(*shape[:-1], *out.shape[-3:])


def normalize64(x, valid=None, div_guard=1e-7, dim=-1):
    """Float64 oracle of the seed's semantics, written from the definition."""
    x = x.detach().double().cpu()
    if valid is None:
        mean = x.mean(dim, keepdim=True)
        var = ((x - mean) ** 2).sum(dim, keepdim=True) / (x.shape[dim] - 1)
        return (x - mean) / torch.sqrt(var + div_guard)
    valid = valid.cpu().bool().expand_as(x)
    x0 = torch.where(valid, x, torch.zeros_like(x))
    count = valid.sum(dim, keepdim=True).double()
    mean = x0.sum(dim, keepdim=True) / count
    std = torch.sqrt(((x0 - mean) ** 2).sum(dim, keepdim=True) / count)
    return torch.where(valid, (x - mean) / (std + div_guard), torch.zeros_like(x))


def normalize64_derivative(x, valid=None, div_guard=1e-7, dim=-1):
    """d out / d x with detached statistics: 1/(std+guard) inside the mask, 0 outside (float64)."""
    x = x.detach().double().cpu()
    if valid is None:
        var = x.var(dim, keepdim=True)
        return torch.rsqrt(var + div_guard).expand_as(x)
    valid = valid.cpu().bool().expand_as(x)
    x0 = torch.where(valid, x, torch.zeros_like(x))
    count = valid.sum(dim, keepdim=True).double()
    mean = x0.sum(dim, keepdim=True) / count
    std = torch.sqrt(((x0 - mean) ** 2).sum(dim, keepdim=True) / count)
    return torch.where(valid, 1.0 / (std + div_guard), torch.zeros_like(x))
