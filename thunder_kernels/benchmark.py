"""The main job: every provider of both ops side by side on the present device.

``python -m thunder_kernels [--quick] [--out DIR]`` first checks every provider's accuracy against
a float64 oracle (and its agreement with the seed), then times the fused kernels (CUDA only), our
pure-torch path, thunder-speech 3.2.0 (the seed), ``torch.stft`` and nnAudio's STFT (when
installed) over shapes from real use, in the modes forward, backward, forward+backward and no-grad
forward. It prints a Markdown table (median time, speed-up against every peer measured in the
same run, achieved GB/s or TFLOP/s and, on a GPU, the fraction of the measured copy bandwidth /
matmul rate), writes a long-format CSV and PNG plots, and times a small CTC training step with
each front end.

GPU timing uses CUDA events through ``triton.testing.do_bench`` (warm-up, L2 flushed between
runs, median). CPU timing is the median of ``perf_counter`` runs after warm-up, with the thread
count recorded.
"""

import argparse
import csv
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch

from . import blocks
from .normalize.reference import NormalizeFunction, normalize_reference
from .stft.reference import stft_fft

try:  # the seed is an optional peer: its metadata pins torch<2.0, so it is installed --no-deps
    import thunder.blocks as seed_blocks
except ImportError:  # pragma: no cover - depends on the environment
    seed_blocks = None

try:  # nnAudio's STFT (a conv1d with a Fourier basis, like the seed) is an optional peer
    from nnAudio.features import STFT as NnAudioStft
except ImportError:  # pragma: no cover - depends on the environment
    NnAudioStft = None

MODES = ("forward", "backward", "forward+backward", "no-grad forward")
# Providers that only take float32 input (cuFFT half needs power-of-two sizes; nnAudio's basis
# is float32).
FLOAT32_ONLY = ("torch.stft", "nnAudio")


# ---------------------------------------------------------------------------------------------
# Cases: shapes from real use


@dataclass
class StftCase:
    label: str
    batch: int
    samples: int
    n_fft: int
    hop: int
    win: int

    op = "stft"

    def make(self, device, dtype):
        x = torch.randn(self.batch, self.samples, device=device, dtype=dtype)
        window = torch.hann_window(self.win, periodic=False, device=device)
        return x, window

    @property
    def size(self) -> int:
        return self.batch * self.samples

    def frames(self) -> int:
        return 1 + self.samples // self.hop

    def flops(self) -> float:
        # Work of the DFT as a GEMM: (frames x win) @ (win x 2F) per signal.
        return 2.0 * self.batch * self.frames() * 2 * (self.n_fft // 2 + 1) * self.win

    def bytes(self, itemsize: int) -> float:
        return itemsize * (self.size + self.batch * self.frames() * (self.n_fft // 2 + 1) * 2)


@dataclass
class NormalizeCase:
    label: str
    shape: tuple
    masking: str  # "lengths", "mask" ((B,1,T) bool) or "none"
    div_guard: float = 1e-5

    op = "normalize"

    def make(self, device, dtype):
        x = torch.randn(self.shape, device=device, dtype=dtype)
        batch, length = self.shape[0], self.shape[-1]
        lengths = torch.randint(length // 2, length + 1, (batch,), device=device)
        if self.masking == "none":
            return x, None, None
        if self.masking == "lengths":
            return x, None, lengths
        mask = (torch.arange(length, device=device)[None, :] < lengths[:, None]).unsqueeze(1)
        return x, mask, None

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def flops(self) -> float:
        return 0.0

    def bytes(self, itemsize: int) -> float:
        # The floor: one read and one write of the tensor (the mask or lengths are negligible).
        return 2.0 * itemsize * self.size


def stft_cases(quick: bool) -> List[StftCase]:
    if quick:
        return [
            StftCase("asr 16k, 512/160/400, B8 x 1 s", 8, 16000, 512, 160, 400),
            StftCase("asr 16k, 512/160/320, B8 x 10 s", 8, 160000, 512, 160, 320),
            StftCase("whisper 400/160, B8 x 10 s", 8, 160000, 400, 160, 400),
        ]
    cases = []
    for win in (320, 400):
        for batch in (1, 8, 32):
            for seconds in (1, 10, 30):
                cases.append(StftCase(f"asr 16k, 512/160/{win}, B{batch} x {seconds} s", batch, 16000 * seconds, 512, 160, win))
    cases += [
        StftCase("whisper 400/160, B32 x 30 s", 32, 480000, 400, 160, 400),
        StftCase("music 44.1k, 2048/512, B8 x 30 s", 8, 1323000, 2048, 512, 2048),
        StftCase("seed default 1024/512, B8 x 10 s", 8, 160000, 1024, 512, 1024),
        StftCase("target: 512/160/400, B32 x 20 s", 32, 320000, 512, 160, 400),
    ]
    return cases


def normalize_cases(quick: bool) -> List[NormalizeCase]:
    if quick:
        return [
            NormalizeCase("features (32,80,2000), lengths", (32, 80, 2000), "lengths"),
            NormalizeCase("features (32,80,2000), (B,1,T) mask", (32, 80, 2000), "mask"),
            NormalizeCase("raw audio (8,160000), unmasked", (8, 160000), "none", 1e-7),
        ]
    return [
        NormalizeCase("features (32,80,2000), lengths", (32, 80, 2000), "lengths"),
        NormalizeCase("features (32,80,2000), (B,1,T) mask", (32, 80, 2000), "mask"),
        NormalizeCase("features (32,64,1000), lengths", (32, 64, 1000), "lengths"),
        NormalizeCase("features (64,80,3000), (B,1,T) mask", (64, 80, 3000), "mask"),
        NormalizeCase("raw audio (8,480000), unmasked", (8, 480000), "none", 1e-7),
        NormalizeCase("raw audio (32,160000), unmasked", (32, 160000), "none", 1e-7),
    ]


# ---------------------------------------------------------------------------------------------
# Providers


def stft_providers(device: torch.device) -> Dict[str, Callable]:
    def fused(x, window, c):
        from .stft.ops import stft_triton

        return stft_triton(x, c.n_fft, c.hop, c.win, window, True, False, None)

    providers = {}
    if device.type == "cuda":
        providers["fused (triton)"] = fused
    providers["ours, pure torch"] = lambda x, w, c: stft_fft(x, c.n_fft, c.hop, c.win, w, True, False)
    if seed_blocks is not None:
        providers["seed (thunder 3.2.0)"] = lambda x, w, c: seed_blocks.convolution_stft(x, c.n_fft, c.hop, c.win, w)
    providers["torch.stft"] = lambda x, w, c: torch.view_as_real(
        torch.stft(x, c.n_fft, c.hop, c.win, w, center=True, return_complex=True)
    )
    if NnAudioStft is not None:
        modules: Dict[tuple, torch.nn.Module] = {}

        def nnaudio(x, window, c):
            key = (c.n_fft, c.hop, c.win, x.device)
            if key not in modules:
                # nnAudio builds its window from a name (scipy's periodic Hann here), not a tensor.
                modules[key] = NnAudioStft(
                    n_fft=c.n_fft, win_length=c.win, hop_length=c.hop, window="hann", center=True,
                    pad_mode="reflect", output_format="Complex", verbose=False,
                ).to(x.device)
            return modules[key](x)

        providers["nnAudio"] = nnaudio
    return providers


def normalize_providers(device: torch.device) -> Dict[str, Callable]:
    def fused(x, mask, lengths, c):
        from .normalize.ops import normalize_triton

        return normalize_triton(x, mask, c.div_guard, -1, lengths)

    def seed(x, mask, lengths, c):
        if lengths is not None:
            mask = seed_blocks.lengths_to_mask(lengths, x.shape[-1]).unsqueeze(1)
        return seed_blocks.normalize_tensor(x, mask, c.div_guard)

    providers = {}
    if device.type == "cuda":
        providers["fused (triton)"] = fused
    def ours_torch(x, mask, lengths, c):
        if x.requires_grad:
            return NormalizeFunction.apply(x, mask, c.div_guard, -1, lengths)
        return normalize_reference(x, mask, c.div_guard, -1, lengths)

    providers["ours, pure torch"] = ours_torch
    if seed_blocks is not None:
        providers["seed (thunder 3.2.0)"] = seed
    return providers


def make_call(case, provider, mode: str, device, dtype):
    """A zero-argument callable running ``mode`` of ``provider`` on fresh inputs of ``case``."""
    inputs = case.make(device, dtype)
    x = inputs[0]
    if mode == "no-grad forward":
        def run():
            with torch.no_grad():
                provider(*inputs, case)
        return run
    x.requires_grad_(True)
    if mode == "forward":
        return lambda: provider(*inputs, case)
    out = provider(*inputs, case)
    grad = torch.randn_like(out)
    if mode == "backward":
        return lambda: torch.autograd.grad(out, x, grad, retain_graph=True)
    return lambda: torch.autograd.grad(provider(*inputs, case), x, grad)


# ---------------------------------------------------------------------------------------------
# Timing and ceilings


def time_ms(fn, device, min_runs: int = 5, budget_s: float = 1.0) -> float:
    """Median milliseconds of ``fn`` (CUDA events on GPU, perf_counter on CPU)."""
    if device.type == "cuda":
        from triton.testing import do_bench

        return float(do_bench(fn, warmup=25, rep=100, return_mode="median"))
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget_s and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def measure_ceilings(device) -> Dict[str, float]:
    """Device-to-device copy bandwidth (GB/s) and matmul rates (TFLOP/s), measured now."""
    if device.type != "cuda":
        return {}
    src = torch.empty(256 * 2**20, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    copy_ms = time_ms(lambda: dst.copy_(src), device)
    ceilings = {"copy GB/s": 2 * src.numel() / copy_ms / 1e6}
    n = 8192
    for name, dtype, tf32 in (("tf32 matmul TFLOP/s", torch.float32, True), ("bf16 matmul TFLOP/s", torch.bfloat16, False)):
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        saved = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        ms = time_ms(lambda: a @ b, device)
        torch.backends.cuda.matmul.allow_tf32 = saved
        ceilings[name] = 2 * n**3 / ms / 1e9
    return ceilings


# ---------------------------------------------------------------------------------------------
# Training step: the front end in a small CTC model


class _SeedFilterbank(torch.nn.Module):
    """The same front end with thunder 3.2.0's blocks."""

    def __init__(self, ours):
        super().__init__()
        self.inner = ours

    def forward(self, audio, audio_lengths):
        fb = self.inner
        audio = torch.cat([audio[:, :1], audio[:, 1:] - fb.preemph * audio[:, :-1]], dim=1)
        spec = seed_blocks.convolution_stft(audio, fb.n_fft, fb.hop_length, fb.win_length, fb.window)
        mel = torch.matmul(fb.mel_basis, spec.pow(2).sum(-1))
        features = torch.log(mel + fb.log_guard)
        lengths = fb.feature_lengths(audio_lengths)
        mask = seed_blocks.lengths_to_mask(lengths, features.shape[-1]).unsqueeze(1)
        return seed_blocks.normalize_tensor(features, mask, fb.normalize_guard), lengths


def _ctc_model(n_mels: int, channels: int, vocab: int) -> torch.nn.Module:
    def separable(c, k):
        return torch.nn.Sequential(
            torch.nn.Conv1d(c, c, k, padding=k // 2, groups=c, bias=False),
            torch.nn.Conv1d(c, c, 1, bias=False),
            torch.nn.BatchNorm1d(c),
            torch.nn.ReLU(),
        )

    return torch.nn.Sequential(
        torch.nn.Conv1d(n_mels, channels, 11, stride=2, padding=5),
        torch.nn.ReLU(),
        separable(channels, 13),
        separable(channels, 15),
        separable(channels, 17),
        torch.nn.Conv1d(channels, vocab + 1, 1),
    )


def training_step_benchmark(device, quick: bool, steps: int) -> List[dict]:
    from .frontend import FilterbankFeatures

    batch, seconds, channels = (4, 2, 64) if (quick or device.type != "cuda") else (32, 15, 256)
    rows = []
    frontends = {"ours": FilterbankFeatures(n_mels=80).to(device)}
    if seed_blocks is not None:
        frontends["seed (thunder 3.2.0)"] = _SeedFilterbank(frontends["ours"])
    for name, frontend in frontends.items():
        torch.manual_seed(0)
        model = _ctc_model(80, channels, 28).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        audio = torch.randn(batch, 16000 * seconds, device=device)
        audio_lengths = torch.randint(8000 * seconds, 16000 * seconds + 1, (batch,), device=device)
        audio_lengths[0] = 16000 * seconds
        targets = torch.randint(1, 29, (batch, 20 * seconds), device=device)
        target_lengths = torch.full((batch,), 20 * seconds, device=device)

        def sync():
            if device.type == "cuda":
                torch.cuda.synchronize()

        def step():
            features, lengths = frontend(audio, audio_lengths)
            logits = model(features)
            log_probs = logits.log_softmax(1).permute(2, 0, 1)
            out_lengths = torch.div(lengths + 1, 2, rounding_mode="floor").clamp(max=log_probs.shape[0])
            loss = torch.nn.functional.ctc_loss(log_probs, targets, out_lengths, target_lengths, zero_infinity=True)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        def frontend_only():
            with torch.no_grad():
                frontend(audio, audio_lengths)

        step_times, front_times = [], []
        for i in range(steps + 1):
            sync(); t0 = time.perf_counter(); step(); sync()
            t1 = time.perf_counter(); frontend_only(); sync()
            t2 = time.perf_counter()
            if i:  # the first step warms up
                step_times.append((t1 - t0) * 1e3)
                front_times.append((t2 - t1) * 1e3)
        step_ms, front_ms = statistics.median(step_times), statistics.median(front_times)
        rows.append(dict(frontend=name, batch=batch, seconds=seconds, steps=steps,
                         step_ms=step_ms, frontend_ms=front_ms, share=front_ms / step_ms))
    return rows


# ---------------------------------------------------------------------------------------------
# Accuracy and parity


def _relative_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    out = torch.view_as_real(out) if out.is_complex() else out
    out, ref = out.detach().double().cpu(), ref.detach().double().cpu()
    return ((out - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def accuracy_rows(device) -> List[dict]:
    """Each provider's float32 error against a float64 oracle, and its difference from the seed.

    STFT: relative norm error against float64 ``torch.stft`` with the provider's own window.
    Normalize: largest absolute error against the seed's formula evaluated in float64 (our
    float64 reference where the seed is not installed); the outputs are O(1).
    """
    rows = []
    torch.manual_seed(0)
    case = StftCase("asr 16k, 512/160/400, B4 x 2 s", 4, 32000, 512, 160, 400)
    x, window = case.make(device, torch.float32)
    results = {}
    for name, fn in stft_providers(device).items():
        own_window = torch.hann_window(case.win, periodic=True, device=device) if name == "nnAudio" else window
        with torch.no_grad():
            out = fn(x, own_window, case)
            oracle = torch.view_as_real(torch.stft(
                x.double(), case.n_fft, case.hop, case.win, own_window.double(), center=True, return_complex=True
            ))
        results[name] = out
        rows.append(dict(op="stft", case=case.label, provider=name, measure="relative error",
                         error=_relative_error(out, oracle)))
    seed_out = results.get("seed (thunder 3.2.0)")
    for row in rows:
        if seed_out is not None and row["provider"] != "nnAudio":
            row["vs_seed"] = _relative_error(results[row["provider"]], seed_out)

    norm_case = NormalizeCase("features (8,80,1000), (B,1,T) mask", (8, 80, 1000), "mask")
    features, mask, _ = norm_case.make(device, torch.float32)
    features = features * 4 - 12  # log-mel-like offset and spread
    with torch.no_grad():
        if seed_blocks is not None:
            oracle = seed_blocks.normalize_tensor(features.double(), mask, norm_case.div_guard)
        else:
            oracle = normalize_reference(features.double(), mask, norm_case.div_guard, -1, None)
        outputs = {name: fn(features, mask, None, norm_case) for name, fn in normalize_providers(device).items()}
    for name, out in outputs.items():
        row = dict(op="normalize", case=norm_case.label, provider=name, measure="max abs error",
                   error=(out.double() - oracle).abs().max().item())
        if "seed (thunder 3.2.0)" in outputs:
            row["vs_seed"] = (out.double() - outputs["seed (thunder 3.2.0)"].double()).abs().max().item()
        rows.append(row)
    return rows


def render_accuracy(rows: List[dict]) -> str:
    lines = ["### accuracy (float32 inputs, against a float64 oracle)", "",
             "| op | case | provider | measure | error | difference from the seed |", "|---|---|---|---|---|---|"]
    for r in rows:
        vs_seed = f"{r['vs_seed']:.1e}" if "vs_seed" in r else "-"
        lines.append(f"| {r['op']} | {r['case']} | {r['provider']} | {r['measure']} | {r['error']:.1e} | {vs_seed} |")
    lines += ["", "STFT oracle: float64 `torch.stft` with the provider's window (nnAudio builds a periodic Hann "
              "window itself). Normalize oracle: the seed's formula in float64.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Row:
    op: str
    case: str
    mode: str
    provider: str
    dtype: str
    median_ms: float
    size: int
    gbps: float
    tflops: float
    floor_fraction: Optional[float] = None
    extra: dict = field(default_factory=dict)


def _environment(device) -> Dict[str, str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return {
        "device": name, "torch": torch.__version__, "triton": triton_version, "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": str(torch.get_num_threads()), "python": platform.python_version(),
    }


def run(args) -> int:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    env = _environment(device)
    print(f"# thunder_kernels benchmark on {env['device']} ({device.type}), torch {env['torch']}, "
          f"triton {env['triton']}, {env['threads']} threads, commit {env['commit']}, {env['date']}", flush=True)
    if seed_blocks is None:
        print("(thunder-speech 3.2.0 not installed: pip install --no-deps thunder-speech==3.2.0 to compare with the seed)")
    if NnAudioStft is None:
        print("(nnAudio not installed: pip install nnAudio to compare with its STFT)")
    accuracy = accuracy_rows(device)
    print(render_accuracy(accuracy), flush=True)
    ceilings = measure_ceilings(device)
    for k, v in ceilings.items():
        print(f"ceiling: {k} = {v:,.0f}", flush=True)

    dtypes = [torch.float32] + ([torch.bfloat16] if device.type == "cuda" and not args.quick else [])
    modes = MODES if not args.quick else ("no-grad forward", "forward+backward")
    work = []
    for case in stft_cases(args.quick):
        for dtype in dtypes:
            for mode in modes:
                for name, fn in stft_providers(device).items():
                    if dtype != torch.float32 and name in FLOAT32_ONLY:
                        continue
                    work.append((case, mode, name, fn, dtype))
    for case in normalize_cases(args.quick):
        for dtype in dtypes:
            for mode in modes:
                for name, fn in normalize_providers(device).items():
                    work.append((case, mode, name, fn, dtype))

    rows: List[Row] = []
    for i, (case, mode, name, fn, dtype) in enumerate(work, 1):
        torch.manual_seed(i)
        ms = time_ms(make_call(case, fn, mode, device, dtype), device, budget_s=args.budget)
        itemsize = torch.tensor([], dtype=dtype).element_size()
        gbps = case.bytes(itemsize) / ms / 1e6
        tflops = case.flops() / ms / 1e9
        floor = None
        if ceilings:
            floor = gbps / ceilings["copy GB/s"] if case.op == "normalize" else tflops / ceilings["tf32 matmul TFLOP/s"]
        rows.append(Row(case.op, case.label, mode, name, str(dtype).replace("torch.", ""), ms, case.size, gbps, tflops, floor))
        print(f"[{i}/{len(work)}] {case.op:9s} {case.label:40s} {mode:16s} {rows[-1].dtype:8s} {name:22s} {ms:9.3f} ms", flush=True)

    train_rows = training_step_benchmark(device, args.quick, steps=3 if args.quick else 10)
    table = render_markdown(rows, train_rows, env, ceilings) + "\n" + render_accuracy(accuracy)
    print()
    print(table)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{_slug(env['device'])}-{env['date'][:10]}")
    with open(stem + ".md", "w") as f:
        f.write(table)
    write_csv(stem + ".csv", rows, train_rows, env, accuracy)
    write_plots(stem + ".png", rows)
    print(f"\nwrote {stem}.md, {stem}.csv, {stem}.png")
    return 0


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "device"


def render_markdown(rows: List[Row], train_rows: List[dict], env: Dict[str, str], ceilings: Dict[str, float]) -> str:
    lines = [f"Device: {env['device']}; torch {env['torch']}; triton {env['triton']}; threads {env['threads']}; "
             f"commit {env['commit']}; {env['date']}.", ""]
    if ceilings:
        lines.append("Ceilings measured in this run: " + ", ".join(f"{k} {v:,.0f}" for k, v in ceilings.items()) + ".")
        lines.append("")
    groups: Dict[tuple, List[Row]] = {}
    for r in rows:
        groups.setdefault((r.op, r.case, r.dtype, r.mode), []).append(r)
    for op in ("stft", "normalize"):
        providers = sorted({r.provider for r in rows if r.op == op}, key=_provider_order)
        if not providers:
            continue
        ours = providers[0]
        peers = providers[1:]
        rate = "TFLOP/s" if op == "stft" else "GB/s"
        header = ["case", "dtype", "mode"] + [f"{p} ms" for p in providers] + [f"{ours} vs {p}" for p in peers] + [f"{ours} {rate}"]
        if ceilings:
            header.append("of floor")
        lines += [f"### {op}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for (gop, case, dtype, mode), group in groups.items():
            if gop != op:
                continue
            by = {r.provider: r for r in group}
            if ours not in by:
                continue
            cells = [case, dtype, mode] + [f"{by[p].median_ms:.3f}" if p in by else "-" for p in providers]
            cells += [f"{by[p].median_ms / by[ours].median_ms:.2f}x" if p in by else "-" for p in peers]
            me = by[ours]
            cells.append(f"{me.tflops:.2f}" if op == "stft" else f"{me.gbps:.1f}")
            if ceilings:
                cells.append(f"{100 * me.floor_fraction:.0f}%" if me.floor_fraction is not None else "-")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if train_rows:
        lines += ["### training step (front end + QuartzNet-style CTC model, SGD)", "",
                  "| front end | batch | seconds | step ms | front end ms | front end share |", "|---|---|---|---|---|---|"]
        for t in train_rows:
            lines.append(f"| {t['frontend']} | {t['batch']} | {t['seconds']} | {t['step_ms']:.1f} | {t['frontend_ms']:.1f} | {100 * t['share']:.0f}% |")
        lines.append("")
    lines.append("Ratios are peer time / our time (above 1 means ours is faster). The STFT rate counts "
                 "the DFT-as-GEMM work (2 * frames * 2F * win per signal); the normalize rate counts one read "
                 "and one write of the tensor.")
    return "\n".join(lines) + "\n"


def _provider_order(name: str) -> int:
    order = ["fused (triton)", "ours, pure torch", "seed (thunder 3.2.0)", "torch.stft", "nnAudio"]
    return order.index(name) if name in order else len(order)


def write_csv(path: str, rows: List[Row], train_rows: List[dict], env: Dict[str, str],
              accuracy: Optional[List[dict]] = None) -> None:
    fields = ["op", "case", "mode", "provider", "dtype", "median_ms", "size", "gbps", "tflops", "floor_fraction",
              "error", "device", "torch", "triton", "commit", "date", "threads"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow(dict(op=r.op, case=r.case, mode=r.mode, provider=r.provider, dtype=r.dtype,
                                 median_ms=f"{r.median_ms:.6f}", size=r.size, gbps=f"{r.gbps:.3f}",
                                 tflops=f"{r.tflops:.4f}", floor_fraction="" if r.floor_fraction is None else f"{r.floor_fraction:.4f}",
                                 **{k: env[k] for k in ("device", "torch", "triton", "commit", "date", "threads")}))
        for t in train_rows:
            writer.writerow(dict(op="training step", case=f"B{t['batch']} x {t['seconds']} s", mode="step",
                                 provider=t["frontend"], dtype="float32", median_ms=f"{t['step_ms']:.6f}",
                                 size=t["batch"], gbps="", tflops="", floor_fraction=f"{t['share']:.4f}",
                                 **{k: env[k] for k in ("device", "torch", "triton", "commit", "date", "threads")}))
        for a in accuracy or []:
            writer.writerow(dict(op=a["op"], case=a["case"], mode=a["measure"], provider=a["provider"],
                                 dtype="float32", error=f"{a['error']:.3e}",
                                 **{k: env[k] for k in ("device", "torch", "triton", "commit", "date", "threads")}))


def write_plots(path: str, rows: List[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, op in zip(axes, ("stft", "normalize")):
        selected = [r for r in rows if r.op == op and r.mode == "no-grad forward" and r.dtype == "float32"]
        for provider in sorted({r.provider for r in selected}, key=_provider_order):
            points = sorted((r.size, r.median_ms) for r in selected if r.provider == provider)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=provider)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input elements")
        ax.set_ylabel("median no-grad forward time (ms)")
        ax.set_title(f"{op}, float32, no-grad forward")
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m thunder_kernels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few shapes and modes (under two minutes on 2 CPU cores)")
    parser.add_argument("--out", default=os.path.join("bench", "results", "local"), help="folder for the .md/.csv/.png")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's)")
    parser.add_argument("--budget", type=float, default=1.0, help="CPU seconds of timed runs per row, at most")
    sys.exit(run(parser.parse_args(argv)))
