"""The drop-in surface: the nine names of thunder.blocks 3.2.0, same signatures and behaviour."""

import inspect

import pytest
import torch
import thunder.blocks as seed

import thunder_kernels as tk
import thunder_kernels.blocks as blocks

NAMES = sorted(seed.__all__)


def test_all_nine_names_exported():
    assert len(NAMES) == 9
    assert sorted(blocks.__all__) == NAMES
    for name in NAMES:
        assert getattr(tk, name) is getattr(blocks, name)


@pytest.mark.parametrize("name", [n for n in NAMES if inspect.isfunction(getattr(seed, n))])
def test_same_positional_signature_and_defaults(name):
    ours = list(inspect.signature(getattr(blocks, name)).parameters.values())
    theirs = list(inspect.signature(getattr(seed, name)).parameters.values())
    assert [p.name for p in ours[: len(theirs)]] == [p.name for p in theirs]
    for a, b in zip(ours, theirs):
        if isinstance(b.default, torch.Tensor):
            assert torch.equal(a.default, b.default)
        else:
            assert a.default == b.default
    # Extensions come after the seed's parameters and default to the seed's behaviour.
    assert all(p.default is None for p in ours[len(theirs):])


def test_lengths_to_mask_and_padding():
    lengths = torch.tensor([3.7, 0.0, 5.0])
    assert torch.equal(tk.lengths_to_mask(lengths, 6), seed.lengths_to_mask(lengths, 6))
    for args in [(3, 1, 1), (5, 2, 1), (3, 1, 4), (7, 1, 2)]:
        assert tk.get_same_padding(*args) == seed.get_same_padding(*args)
    with pytest.raises(ValueError, match="Only stride OR dilation"):
        tk.get_same_padding(3, 2, 2)


def test_modules_behave_as_seed():
    x = torch.randn(2, 5, 7)
    lengths = torch.tensor([7, 3])
    assert torch.equal(tk.SwapLastDimension()(x), seed.SwapLastDimension()(x))
    layer = torch.nn.ReLU()
    out, out_lengths = tk.Masked(layer)(x, lengths)
    assert torch.equal(out, torch.relu(x)) and out_lengths is lengths
    seq = tk.MultiSequential(tk.Masked(torch.nn.ReLU()), tk.Masked(torch.nn.Tanh()))
    out, _ = seq(x, lengths)
    assert torch.equal(out, torch.tanh(torch.relu(x)))
    torch.manual_seed(1)
    ours = tk.conv1d_decoder(5, 11)
    torch.manual_seed(1)
    theirs = seed.conv1d_decoder(5, 11)
    assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours(x), theirs(x))
    torch.manual_seed(2)
    ours = tk.linear_decoder(5, 11, 0.0)
    torch.manual_seed(2)
    theirs = seed.linear_decoder(5, 11, 0.0)
    assert torch.equal(ours(x), theirs(x))
    assert ours(x).shape == (2, 11, 7)
