"""The main job's pieces that are not timings: the accuracy table, the report and its files."""

import csv

import torch

from thunder_kernels import benchmark


def test_accuracy_rows_cover_every_provider_and_hold_the_claims(device):
    rows = benchmark.accuracy_rows(device)
    by = {(r["op"], r["provider"]): r for r in rows}
    assert set(p for op, p in by if op == "stft") == set(benchmark.stft_providers(device))
    assert set(p for op, p in by if op == "normalize") == set(benchmark.normalize_providers(device))
    assert by[("stft", "ours, pure torch")]["error"] <= 1e-6
    assert by[("stft", "seed (thunder 3.2.0)")]["error"] > 1e-6  # the seed's float32 basis
    assert by[("stft", "nnAudio")]["error"] <= 1e-5
    assert by[("stft", "ours, pure torch")]["vs_seed"] <= 1e-4
    assert by[("normalize", "ours, pure torch")]["error"] <= 1e-5
    assert by[("normalize", "ours, pure torch")]["vs_seed"] <= 1e-5
    table = benchmark.render_accuracy(rows)
    assert table.count("\n| stft |") == len(benchmark.stft_providers(device))


def test_report_csv_and_plot(tmp_path):
    rows = [
        benchmark.Row("stft", "c", "no-grad forward", provider, "float32", ms, 1000, 1.0, 0.5)
        for provider, ms in (("ours, pure torch", 2.0), ("seed (thunder 3.2.0)", 10.0), ("nnAudio", 8.0))
    ]
    env = dict(device="cpu", torch="t", triton="tr", commit="abc", date="2026-01-01 00:00 UTC", threads="2")
    table = benchmark.render_markdown(rows, [], env, {})
    assert "| c | float32 | no-grad forward | 2.000 | 10.000 | 8.000 | 5.00x | 4.00x |" in table
    accuracy = [dict(op="stft", case="c", provider="nnAudio", measure="relative error", error=3e-7)]
    benchmark.write_csv(str(tmp_path / "r.csv"), rows, [], env, accuracy)
    with open(tmp_path / "r.csv") as f:
        written = list(csv.DictReader(f))
    assert [r["provider"] for r in written] == ["ours, pure torch", "seed (thunder 3.2.0)", "nnAudio", "nnAudio"]
    assert written[-1]["error"] == "3.000e-07" and written[0]["median_ms"] == "2.000000"
    benchmark.write_plots(str(tmp_path / "r.png"), rows)
    assert (tmp_path / "r.png").stat().st_size > 1000
