"""A thunder-style front end scripts and exports (legacy and dynamo ONNX) and runs in onnxruntime."""

import io

import onnxruntime as ort
import pytest
import torch

from thunder_kernels.frontend import FilterbankFeatures

from helpers import rel_err

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")

EXAMPLE = (torch.randn(3, 16000), torch.tensor([16000, 9000, 4000]))
# Other batch and time sizes than the export example.
PROBES = [
    (torch.randn(2, 23456), torch.tensor([23456, 10001])),
    (torch.randn(5, 8000), torch.tensor([8000, 8000, 500, 7999, 3000])),
]


@pytest.fixture(scope="module")
def frontend():
    torch.manual_seed(0)
    return FilterbankFeatures(n_fft=512, win_length=400, hop_length=160, n_mels=64).eval()


def _check_probes(run, model):
    for audio, lengths in PROBES:
        features, feature_lengths = run(audio, lengths)
        ref, ref_lengths = model(audio, lengths)
        assert tuple(features.shape) == tuple(ref.shape)
        assert torch.equal(torch.as_tensor(feature_lengths), ref_lengths)
        assert rel_err(torch.as_tensor(features), ref) <= 1e-4


def test_script(frontend):
    scripted = torch.jit.script(frontend)
    _check_probes(scripted, frontend)
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    _check_probes(torch.jit.load(buffer), frontend)


def _ort_runner(model_bytes):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(audio, lengths):
        outs = session.run(None, {names[0]: audio.numpy(), names[1]: lengths.numpy()})
        return torch.from_numpy(outs[0]), torch.from_numpy(outs[1])

    return run


def test_onnx_legacy_exporter(frontend):
    buffer = io.BytesIO()
    torch.onnx.export(
        frontend,
        EXAMPLE,
        buffer,
        dynamo=False,
        input_names=["audio", "audio_lengths"],
        output_names=["features", "feature_lengths"],
        dynamic_axes={
            "audio": {0: "batch", 1: "samples"},
            "audio_lengths": {0: "batch"},
            "features": {0: "batch", 2: "frames"},
            "feature_lengths": {0: "batch"},
        },
    )
    _check_probes(_ort_runner(buffer.getvalue()), frontend)


def test_onnx_dynamo_exporter(frontend):
    batch = torch.export.Dim("batch", min=1, max=64)
    samples = torch.export.Dim("samples", min=2000, max=10_000_000)
    program = torch.onnx.export(
        frontend,
        EXAMPLE,
        dynamo=True,
        dynamic_shapes={"audio": {0: batch, 1: samples}, "audio_lengths": {0: batch}},
    )
    _check_probes(_ort_runner(program.model_proto.SerializeToString()), frontend)
