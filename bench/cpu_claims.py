"""The README's two CPU claims, measured side by side in one process.

    python bench/cpu_claims.py [--threads 2] [--rounds 9] [--calls 5]

1. ``convolution_stft`` on (8, 160000), n_fft 512, hop 160, win 320 (Hann), eager, no grad.
2. ``normalize_tensor`` on (32, 80, 2000) with a (B, 1, T) bool mask, eager, no grad.

Each round runs a block of ``--calls`` timed calls of the seed (thunder 3.2.0), then a block of
ours, on the same inputs; a block starts with one untimed call. Blocks rather than alternating
single calls: the first call after another function has freed large buffers pays for fresh
pages, which a loop calling one function does not. Reported: the median of all timed calls per
provider, the ratio of the medians, and the range of per-round ratios (the machine is shared, so
the seed's time in particular moves between rounds).
"""

import argparse
import statistics
import time

import torch

import thunder.blocks as seed
import thunder_kernels as tk


def _block(fn, calls):
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def side_by_side(seed_fn, ours_fn, rounds, calls):
    seed_times, our_times, ratios = [], [], []
    for _ in range(rounds):
        s, o = _block(seed_fn, calls), _block(ours_fn, calls)
        seed_times += s
        our_times += o
        ratios.append(statistics.median(s) / statistics.median(o))
    return statistics.median(seed_times), statistics.median(our_times), ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    audio = torch.randn(8, 160000)
    window = torch.hann_window(320)
    features = torch.randn(32, 80, 2000) * 4 - 12
    lengths = torch.randint(1000, 2001, (32,))
    mask = (torch.arange(2000)[None, :] < lengths[:, None]).unsqueeze(1)
    claims = [
        ("convolution_stft (8,160000) 512/160/320", 5.0,
         lambda: seed.convolution_stft(audio, 512, 160, 320, window),
         lambda: tk.convolution_stft(audio, 512, 160, 320, window)),
        ("normalize_tensor (32,80,2000) (B,1,T) mask", 2.0,
         lambda: seed.normalize_tensor(features, mask),
         lambda: tk.normalize_tensor(features, mask)),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds x {args.calls} calls")
    print("| op | seed ms | ours ms | speed-up | per-round range | claim |")
    print("|---|---|---|---|---|---|")
    with torch.no_grad():
        for label, claim, seed_fn, ours_fn in claims:
            seed_ms, ours_ms, ratios = side_by_side(seed_fn, ours_fn, args.rounds, args.calls)
            print(f"| {label} | {seed_ms:.2f} | {ours_ms:.2f} | {seed_ms / ours_ms:.2f}x | "
                  f"{min(ratios):.2f}x-{max(ratios):.2f}x | >= {claim:g}x |", flush=True)


if __name__ == "__main__":
    main()
