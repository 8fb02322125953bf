"""The pure-torch normalization against thunder 3.2.0 and a float64 oracle of its definition."""

import pytest
import torch
import thunder.blocks as seed

import thunder_kernels as tk
from thunder_kernels.normalize.reference import normalize_reference

from helpers import max_abs, normalize64, rel_err

pytestmark = pytest.mark.usefixtures("torch_backend")


def _lengths_mask(lengths, length):
    return torch.arange(length)[None, :] < lengths.long()[:, None]


MASK_KINDS = ["bool", "int", "float", "int32_broadcast", "full"]


def _make_mask(kind, batch, features, length):
    lengths = torch.randint(1, length + 1, (batch,))
    base = _lengths_mask(lengths, length).unsqueeze(1)  # (B, 1, T)
    if kind == "bool":
        return base
    if kind == "int":
        return base.long()
    if kind == "float":
        return base.float()
    if kind == "int32_broadcast":
        return base.int()
    return (torch.rand(batch, features, length) > 0.3)  # arbitrary full mask


@pytest.mark.parametrize("kind", MASK_KINDS)
@pytest.mark.parametrize("shape", [(3, 5, 17), (2, 80, 211), (4, 1, 1000)])
def test_masked_parity(kind, shape):
    x = torch.randn(shape) * 3 + 1
    mask = _make_mask(kind, *shape)
    ours = tk.normalize_tensor(x, mask, 1e-5)
    theirs = seed.normalize_tensor(x, mask, 1e-5)
    ref = normalize64(x, mask, 1e-5)
    assert ours.shape == x.shape and ours.dtype == x.dtype
    assert max_abs(ours, ref) <= 1e-5
    assert max_abs(ours, theirs) <= 2 * max_abs(theirs, ref) + 1e-5


@pytest.mark.parametrize("lengths_dtype", [torch.int64, torch.int32, torch.float32])
def test_lengths_equals_mask(lengths_dtype):
    x = torch.randn(5, 7, 50)
    lengths = torch.tensor([50, 1, 17, 0, 33]).to(lengths_dtype)
    if lengths_dtype.is_floating_point:
        lengths = lengths + 0.7  # truncated, as thunder's lengths_to_mask does
    mask = seed.lengths_to_mask(lengths, 50).unsqueeze(1)
    ours = tk.normalize_tensor(x, lengths=lengths, div_guard=1e-5)
    assert max_abs(ours, seed.normalize_tensor(x, mask, 1e-5)) <= 1e-5
    assert torch.equal(ours, tk.normalize_tensor(x, mask, 1e-5))


def test_lengths_along_dim_1():
    x = torch.randn(3, 40, 6)
    lengths = torch.tensor([40, 10, 3])
    mask = seed.lengths_to_mask(lengths, 40).unsqueeze(-1)  # (B, T, 1)
    ours = tk.normalize_tensor(x, lengths=lengths, dim=1)
    assert max_abs(ours, seed.normalize_tensor(x, mask, dim=1)) <= 1e-5


@pytest.mark.parametrize("shape,dim", [((4, 9, 31), -1), ((4, 9, 31), 1), ((4, 9, 31), 0), ((1000,), 0), ((2, 3, 4, 5), 2)])
def test_unmasked_parity(shape, dim):
    x = torch.randn(shape) * 2 - 1
    ours = tk.normalize_tensor(x, None, 1e-7, dim)
    assert max_abs(ours, seed.normalize_tensor(x, None, 1e-7, dim)) <= 1e-5
    assert max_abs(ours, normalize64(x, None, 1e-7, dim)) <= 1e-5


def test_masked_dim_1_with_mask_along_it():
    x = torch.randn(3, 20, 7)
    mask = torch.rand(3, 20, 1) > 0.4
    ours = tk.normalize_tensor(x, mask, 1e-5, 1)
    assert max_abs(ours, seed.normalize_tensor(x, mask, 1e-5, 1)) <= 1e-5


def test_zero_length_rows_are_zero():
    x = torch.randn(3, 4, 25)
    lengths = torch.tensor([0, 25, 0])
    mask = seed.lengths_to_mask(lengths, 25).unsqueeze(1)
    for out in (tk.normalize_tensor(x, mask), tk.normalize_tensor(x, lengths=lengths)):
        assert not torch.isnan(out).any()
        assert torch.all(out[0] == 0) and torch.all(out[2] == 0)
        assert max_abs(out, seed.normalize_tensor(x, mask)) <= 1e-5


def test_length_one_rows_follow_reference():
    x = torch.randn(4, 1)
    ours = tk.normalize_tensor(x)
    assert torch.isnan(ours).all() and torch.isnan(seed.normalize_tensor(x)).all()
    mask = torch.ones(4, 1, dtype=torch.bool)
    assert max_abs(tk.normalize_tensor(x, mask), seed.normalize_tensor(x, mask)) == 0


def test_non_contiguous_input():
    x = torch.randn(40, 6, 3).permute(2, 1, 0)  # (3, 6, 40), last dim stride 18
    mask = torch.rand(3, 1, 40) > 0.2
    assert not x.is_contiguous()
    ours = tk.normalize_tensor(x, mask, 1e-5)
    assert max_abs(ours, seed.normalize_tensor(x, mask, 1e-5)) <= 1e-5
    assert max_abs(tk.normalize_tensor(x, None, 1e-5, 1), seed.normalize_tensor(x, None, 1e-5, 1)) <= 1e-5


@pytest.mark.parametrize("masked", [True, False])
def test_fp16_large_values_do_not_overflow(masked):
    x = (torch.randn(2, 3, 500) * 2000 + 30000).half()  # squares overflow fp16
    mask = (torch.rand(2, 1, 500) > 0.5) if masked else None
    ours = tk.normalize_tensor(x, mask, 1e-5)
    assert ours.dtype == torch.float16 and torch.isfinite(ours).all()
    ref = normalize64(x, mask, 1e-5)
    assert max_abs(ours, ref) <= 5e-3
    if masked:  # the seed sums in fp16, overflows and returns non-finite values here
        assert not torch.isfinite(seed.normalize_tensor(x, mask, 1e-5)).all()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_other_dtypes(dtype):
    x = torch.randn(2, 8, 300).to(dtype)
    mask = torch.rand(2, 1, 300) > 0.3
    ours = tk.normalize_tensor(x, mask)
    assert ours.dtype == dtype
    assert max_abs(ours, normalize64(x, mask)) <= (3e-2 if dtype == torch.bfloat16 else 1e-12)


@pytest.mark.parametrize("mode", ["mask", "lengths", "none"])
def test_gradient_matches_seed(mode):
    x = torch.randn(3, 6, 70, requires_grad=True)
    lengths = torch.tensor([70, 20, 0])
    mask = seed.lengths_to_mask(lengths, 70).unsqueeze(1)
    probe = torch.randn(3, 6, 70)
    kwargs = {"mask": {"mask": mask}, "lengths": {"lengths": lengths}, "none": {}}[mode]
    (tk.normalize_tensor(x, div_guard=1e-5, **kwargs) * probe).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    (seed.normalize_tensor(x, None if mode == "none" else mask, 1e-5) * probe).sum().backward()
    assert torch.isfinite(ours).all()
    assert max_abs(ours, x.grad) <= 1e-5


@pytest.mark.parametrize("mode", ["mask", "lengths", "none"])
def test_jacobian_float64(mode):
    """Float64 Jacobian: diagonal, 1/(std+guard) inside the mask and 0 outside (detached stats).

    ``gradcheck`` does not apply: its finite differences move the statistics, which the seed's
    definition detaches. The exact Jacobian is checked instead, and against the seed's autograd.
    """
    x = torch.randn(2, 3, 9, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([9, 4])
    mask = seed.lengths_to_mask(lengths, 9).unsqueeze(1)
    kwargs = {"mask": {"mask": mask}, "lengths": {"lengths": lengths}, "none": {}}[mode]
    jac = torch.autograd.functional.jacobian(lambda a: tk.normalize_tensor(a, **kwargs), x)
    jac = jac.reshape(x.numel(), x.numel())
    assert max_abs(jac, torch.diag(torch.diagonal(jac))) == 0
    xd = x.detach()
    if mode == "none":
        expected = torch.rsqrt(xd.var(-1, keepdim=True) + 1e-7).expand_as(xd)
    else:
        valid = mask.expand_as(xd)
        x0 = torch.where(valid, xd, torch.zeros_like(xd))
        count = valid.sum(-1, keepdim=True)
        mean = x0.sum(-1, keepdim=True) / count
        std = (((x0 - mean) ** 2).sum(-1, keepdim=True) / count).sqrt()
        expected = torch.where(valid, 1 / (std + 1e-7), torch.zeros_like(xd))
    assert max_abs(torch.diagonal(jac), expected.reshape(-1)) <= 1e-12
    seed_jac = torch.autograd.functional.jacobian(
        lambda a: seed.normalize_tensor(a, None if mode == "none" else mask), x
    )
    assert max_abs(jac, seed_jac.reshape(x.numel(), x.numel())) <= 1e-12


def test_reference_direct_call_matches_public():
    x = torch.randn(2, 4, 30)
    mask = torch.rand(2, 1, 30) > 0.5
    assert torch.equal(normalize_reference(x, mask, 1e-5, -1, None), tk.normalize_tensor(x, mask, 1e-5))


@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("length", [4096, 4097, 3 * 4096 + 123, 100_003])
def test_long_rows_stay_accurate(masked, layout, length):
    # Rows past 4096 are summed in pieces plus a tail; off the contiguous axis by a pairwise sum.
    x = torch.randn(2, length) * 3 + 50
    if layout == "strided":
        x = torch.randn(length, 2).t() * 3 + 50
    mask = _lengths_mask(torch.tensor([length, length // 3]), length) if masked else None
    ours = tk.normalize_tensor(x, mask, 1e-5)
    assert max_abs(ours, normalize64(x, mask, 1e-5)) <= 1e-5


def test_non_finite_padding_is_ignored():
    x = torch.randn(2, 3, 40)
    mask = _lengths_mask(torch.tensor([30, 12]), 40).unsqueeze(1)
    dirty = x.clone()
    dirty[:, :, 35] = float("inf")
    dirty[1, :, 20] = float("nan")
    ours = tk.normalize_tensor(dirty, mask, 1e-5)
    assert torch.equal(ours, tk.normalize_tensor(x, mask, 1e-5))
    assert max_abs(ours, seed.normalize_tensor(dirty, mask, 1e-5)) <= 1e-5


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_non_finite_inside_the_mask_keeps_padding_zero(bad):
    x = torch.randn(2, 3, 40)
    x[0, 1, 3] = bad
    mask = _lengths_mask(torch.tensor([30, 12]), 40).unsqueeze(1)
    ours, theirs = tk.normalize_tensor(x, mask, 1e-5), seed.normalize_tensor(x, mask, 1e-5)
    assert torch.isnan(ours[0, 1, :30]).all() and torch.all(ours[0, 1, 30:] == 0)
    assert torch.equal(torch.isnan(ours), torch.isnan(theirs))
    finite = ~torch.isnan(theirs)
    assert max_abs(ours[finite], theirs[finite]) <= 1e-5
