"""The fused Triton normalization (interpreter on CPU, real kernels on a GPU)."""

import pytest
import torch
import thunder.blocks as seed

import thunder_kernels as tk
from thunder_kernels.normalize import launchers, ops

from helpers import max_abs, normalize64, normalize64_derivative

pytestmark = pytest.mark.usefixtures("triton_backend")

DTYPES = [torch.float32, torch.float16, torch.bfloat16]
TOL = {torch.float32: 2e-5, torch.float16: 3e-3, torch.bfloat16: 3e-2}


def _valid(kind, shape, axis, device):
    """(kwargs for normalize_tensor, bool validity broadcastable to shape) for a mask kind."""
    batch, length = shape[0], shape[axis]
    lengths = torch.randint(0, length + 1, (batch,), device=device)
    lengths[0] = length
    if batch > 2:
        lengths[-1] = 0  # a zero-length row
    positions = torch.arange(length, device=device).reshape([length if d == axis else 1 for d in range(len(shape))])
    by_length = positions < lengths.reshape([-1] + [1] * (len(shape) - 1))
    if kind == "none":
        return {}, None
    if kind == "lengths":
        return {"lengths": lengths}, by_length
    if kind == "lengths_float":
        return {"lengths": lengths.float() + 0.5}, by_length
    if kind == "bool":
        return {"mask": by_length}, by_length
    if kind == "int":
        return {"mask": by_length.int()}, by_length
    if kind == "float":
        return {"mask": by_length.float()}, by_length
    full = torch.rand(shape, device=device) > 0.4
    return {"mask": full}, full


SHAPES = [
    # shape, dim: rows of 1, 2, 17, 1000 and 100003 elements; primes in every dimension
    ((3, 1), -1),
    ((5, 2), -1),
    ((3, 7, 17), -1),
    ((3, 17, 5), 1),
    ((2, 3, 1000), -1),
    ((3, 1000, 2), 1),
    ((2, 100003), -1),
]
KINDS = ["none", "lengths", "lengths_float", "bool", "int", "float", "full"]


@pytest.mark.parametrize("shape,dim", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
def test_forward_and_gradient_fp32(kernel_device, shape, dim, kind):
    _check(kernel_device, shape, dim, kind, torch.float32)


@pytest.mark.parametrize("shape,dim", [((3, 7, 17), -1), ((3, 17, 5), 1), ((2, 3, 1000), -1), ((2, 20011), -1)])
@pytest.mark.parametrize("kind", ["none", "lengths", "bool", "full"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_forward_and_gradient_half(kernel_device, shape, dim, kind, dtype):
    _check(kernel_device, shape, dim, kind, dtype)


def _check(device, shape, dim, kind, dtype):
    axis = dim % len(shape)
    x = (torch.randn(shape, device=device) * 3 + 1).to(dtype)
    kwargs, valid = _valid(kind, shape, axis, device)
    xg = x.clone().requires_grad_()
    out = tk.normalize_tensor(xg, div_guard=1e-5, dim=dim, **kwargs)
    ref = normalize64(x, valid, 1e-5, dim)
    assert out.shape == x.shape and out.dtype == dtype
    if shape[axis] == 1 and kind == "none":  # unbiased variance of one element: NaN, as the reference
        assert torch.isnan(out).all()
        return
    assert not torch.isnan(out).any()
    assert max_abs(out, ref) <= TOL[dtype] * max(1.0, ref.abs().max().item())
    probe = torch.randn(shape, device=device).to(dtype)
    (out * probe).sum().backward()
    # Detached statistics: the gradient is probe * 1/(std+guard) inside the mask, 0 outside.
    expected = probe.double().cpu() * normalize64_derivative(x, valid, 1e-5, dim)
    assert torch.isfinite(xg.grad).all()
    assert max_abs(xg.grad, expected) <= TOL[dtype] * max(1.0, expected.abs().max().item())


def test_matches_seed_on_feature_batch(kernel_device):
    x = torch.randn(4, 80, 301, device=kernel_device)
    lengths = torch.tensor([301, 150, 1, 0], device=kernel_device)
    mask = seed.lengths_to_mask(lengths, 301).unsqueeze(1)
    ours = tk.normalize_tensor(x, mask, 1e-5)
    assert max_abs(ours, seed.normalize_tensor(x, mask, 1e-5)) <= 1e-5
    assert torch.equal(ours, tk.normalize_tensor(x, lengths=lengths, div_guard=1e-5))


def test_non_contiguous_and_broadcast_mask_read_in_place(kernel_device):
    x = torch.randn(50, 7, 3, device=kernel_device).permute(2, 1, 0)  # (3, 7, 50), row stride 21
    mask = torch.rand(3, 1, 50, device=kernel_device) > 0.3
    out = tk.normalize_tensor(x, mask)
    assert max_abs(out, normalize64(x, mask)) <= 2e-5
    layout = launchers._row_layout(x.shape, 2, [x.stride(), mask.expand(x.shape).stride()])
    assert layout is not None and layout[1][1][2] == 1  # the broadcast mask keeps zero row strides


def test_uncoalescible_layout_falls_back_to_a_copy(kernel_device):
    x = torch.randn(5, 6, 7, 8, device=kernel_device).permute(2, 0, 3, 1)[:, :, ::2]  # 3 row dims
    assert launchers._row_layout(x.shape, 3, [x.stride()]) is None
    out = tk.normalize_tensor(x, dim=-1)
    assert max_abs(out, normalize64(x, None, 1e-7, -1)) <= 2e-5


def test_fp16_large_values(kernel_device):
    x = (torch.randn(2, 3, 500, device=kernel_device) * 2000 + 30000).half()
    mask = torch.rand(2, 1, 500, device=kernel_device) > 0.5
    out = tk.normalize_tensor(x, mask, 1e-5)
    assert torch.isfinite(out).all()
    assert max_abs(out, normalize64(x, mask, 1e-5)) <= 5e-3


def test_split_path_is_deterministic(kernel_device):
    x = torch.randn(2, 50000, device=kernel_device)
    first = tk.normalize_tensor(x)
    assert all(torch.equal(first, tk.normalize_tensor(x)) for _ in range(2))


def test_opcheck(kernel_device):
    x = torch.randn(3, 4, 37, device=kernel_device)
    mask = torch.rand(3, 1, 37, device=kernel_device) > 0.5
    for args in [(x, mask, None, 1e-5, 2), (x, None, torch.tensor([37, 5, 0], device=kernel_device), 1e-5, 2),
                 (x, None, None, 1e-7, 1)]:
        torch.library.opcheck(ops.normalize_op, args,
                              test_utils=("test_schema", "test_faketensor", "test_autograd_registration"))


def test_compile_fullgraph_no_graph_break(kernel_device):
    def features(x, lengths):
        return tk.normalize_tensor(x.exp().log(), lengths=lengths, div_guard=1e-5) * 2

    x = torch.randn(3, 8, 100, device=kernel_device, requires_grad=True)
    lengths = torch.tensor([100, 40, 0], device=kernel_device)
    backend = "inductor" if kernel_device == "cuda" else "aot_eager"
    compiled = torch.compile(features, fullgraph=True, backend=backend)
    out = compiled(x, lengths)
    assert max_abs(out, features(x, lengths)) <= 1e-5
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_capture_without_host_sync():
    x = torch.randn(8, 80, 3000, device="cuda")
    lengths = torch.randint(1, 3001, (8,), device="cuda")
    long_rows = torch.randn(4, 480000, device="cuda")
    for _ in range(2):  # warm the JIT
        tk.normalize_tensor(x, lengths=lengths)
        tk.normalize_tensor(long_rows)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = tk.normalize_tensor(x, lengths=lengths)
        out_long = tk.normalize_tensor(long_rows)
    x.copy_(torch.randn_like(x))
    long_rows.copy_(torch.randn_like(long_rows))
    graph.replay()
    valid = torch.arange(3000, device="cuda")[None, None, :] < lengths[:, None, None]
    assert max_abs(out, normalize64(x, valid)) <= 2e-5
    assert max_abs(out_long, normalize64(long_rows)) <= 2e-5
