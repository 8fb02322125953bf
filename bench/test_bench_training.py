"""The training-step benchmark: a small CTC model with thunder's front end, seed vs ours."""

from thunder_kernels.benchmark import training_step_benchmark


def test_training_step(benchmark, smoke, device):
    rows = benchmark.pedantic(
        lambda: training_step_benchmark(device, quick=True, steps=1 if smoke else 3), rounds=1, iterations=1
    )
    assert {r["frontend"] for r in rows} == {"ours", "seed (thunder 3.2.0)"}
    for r in rows:
        assert r["step_ms"] > 0 and 0 < r["share"] < 5
