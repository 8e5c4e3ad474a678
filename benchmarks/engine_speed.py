"""Engine speed: how fast the samplers draw windows, and how much of it is the network.

Run from the repository root::

    python benchmarks/engine_speed.py [--device auto] [--repeats 3] [--markdown]

Configuration (the small CSDI one of the foundation issue): 72 windows of 7 features x
48 steps, about 10% of entries hidden, 20 samples per window (1,440 window-samples),
networks with 2 layers and 32 channels, a 50-step quadratic schedule. Untrained weights:
speed does not depend on them. Rows: DDPM with 50 steps (what CSDI does: 50 network
calls per sample) and DPM-Solver++ with 10 and 20 steps. Columns: median seconds over
``--repeats`` runs after a warm-up, window-samples per second, denoiser evaluations per
second (window-samples x network calls per sample / seconds), and the share of the
sampling time spent inside the network's forward pass (timed by wrapping it).

The CSDI row uses the network of PyPOTS' CSDI at the same size (8 heads, feed-forward
64, diffusion and position embeddings 128, feature embedding 16). With ``--pypots``
(needs the ``bench`` extra) PyPOTS' own CSDI samples the same 72 windows in the same run
(its ``predict`` with ``n_sampling_times=20``, 50 DDPM steps, batch 32), and the last
column compares every row with that measurement; without it, with the issue's
reference figure of 17 window-samples/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _pypots import small_csdi
from _report import environment_line

from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    generate,
    make_schedule,
    resolve_device,
)

N_WINDOWS, N_FEATURES, LENGTH, N_SAMPLES = 72, 7, 48, 20
PYPOTS_CSDI_WINDOW_SAMPLES_PER_SECOND = 17.0
NETWORKS = {
    "csdi (2 layers, 32 ch)": {
        "kind": "csdi",
        "channels": 32,
        "n_layers": 2,
        "n_heads": 8,
        "feedforward_dim": 64,
        "time_embedding_dim": 128,
        "position_embedding_dim": 128,
        "feature_embedding_dim": 16,
    },
    # dilation_cycle, kernel_size and time_embedding_dim as measured (the torch
    # module's defaults then; the networks take every value from their configuration)
    "dilated_conv (2 layers, 32 ch)": {
        "kind": "dilated_conv",
        "channels": 32,
        "n_layers": 2,
        "dilation_cycle": 4,
        "kernel_size": 3,
        "time_embedding_dim": 128,
    },
    "dilated_conv (default: 8 layers, 32 ch)": {
        "kind": "dilated_conv",
        "channels": 32,
        "n_layers": 8,
        "dilation_cycle": 4,
        "kernel_size": 3,
        "time_embedding_dim": 128,
    },
}
RUNS = [("ddpm", 50), ("dpm_solver", 20), ("dpm_solver", 10)]


class ForwardTimer:
    """Wraps a module's forward to add up its wall-clock time and count its calls."""

    def __init__(self, module: torch.nn.Module, device: torch.device) -> None:
        self.module, self.device = module, device
        self.original = module.forward
        self.seconds, self.calls = 0.0, 0
        module.forward = self

    def __call__(self, *args, **kwargs):
        self._sync()
        started = time.perf_counter()
        out = self.original(*args, **kwargs)
        self._sync()
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return out

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


def condition(device: torch.device) -> Condition:
    generator = torch.Generator().manual_seed(1)
    values = torch.randn(N_WINDOWS, N_FEATURES, LENGTH, generator=generator)
    given = torch.rand(N_WINDOWS, N_FEATURES, LENGTH, generator=generator) > 0.1
    return Condition(values.to(device), given.to(device))


def measure_pypots(device: torch.device) -> float:
    """Seconds PyPOTS' CSDI takes to sample the benchmark's windows (untrained)."""
    import numpy as np

    cond = condition(torch.device("cpu"))
    values = cond.values.numpy().transpose(0, 2, 1).copy()  # (windows, steps, features)
    values[~cond.given.numpy().transpose(0, 2, 1)] = np.nan
    model = small_csdi(LENGTH, N_FEATURES, batch_size=32, device=str(device), verbose=False)
    started = time.perf_counter()
    model.predict({"X": values}, n_sampling_times=N_SAMPLES)
    return time.perf_counter() - started


def measure(
    network: dict,
    device: torch.device,
    repeats: int,
    runs: list[tuple[str, int]] = RUNS,
    reference: float = PYPOTS_CSDI_WINDOW_SAMPLES_PER_SECOND,
) -> list[dict]:
    config = {"n_features": N_FEATURES, "n_side": 0, **network}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = DiffusionModel(config, make_schedule("quadratic", n_steps=50), "v")
    model.to(device).eval()
    timer = ForwardTimer(model.network, device)
    cond = condition(device)
    generate(model, cond, 2, sampler="ddpm", n_steps=3)  # warm-up
    rows = []
    for sampler, steps in runs:
        seconds, shares, calls = [], [], 0
        for _ in range(repeats):
            timer.reset()
            started = time.perf_counter()
            generate(
                model,
                cond,
                N_SAMPLES,
                sampler=sampler,
                n_steps=steps,
                generator=torch.Generator(device).manual_seed(0),
            )
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            elapsed = time.perf_counter() - started
            seconds.append(elapsed)
            shares.append(timer.seconds / elapsed)
            calls = timer.calls
        median = statistics.median(seconds)
        window_samples = N_WINDOWS * N_SAMPLES
        rows.append(
            {
                "sampler": f"{sampler} {steps}",
                "seconds": median,
                "window-samples/s": window_samples / median,
                "denoiser calls/s": window_samples * steps / median,
                "batched calls": calls,
                "share in network": statistics.median(shares),
                "vs PyPOTS CSDI": window_samples / median / reference,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="end with a table")
    parser.add_argument(
        "--networks", default="", help="only networks whose name contains this text"
    )
    parser.add_argument(
        "--runs", default="", help="only these sampler runs, e.g. 'dpm_solver 10,ddpm 50'"
    )
    parser.add_argument(
        "--pypots", action="store_true", help="also time PyPOTS' CSDI in this run"
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(environment_line(str(device)))
    header = [
        "network",
        "sampler",
        "seconds",
        "window-samples/s",
        "denoiser calls/s",
        "batched calls",
        "share in network",
        "vs PyPOTS CSDI",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    reference = PYPOTS_CSDI_WINDOW_SAMPLES_PER_SECOND
    if args.pypots:
        seconds = measure_pypots(device)
        reference = N_WINDOWS * N_SAMPLES / seconds
        cells = ["PyPOTS CSDI (2 layers, 32 ch)", "ddpm 50", f"{seconds:.2f}"]
        cells += [f"{reference:.0f}", f"{reference * 50:.0f}", "-", "-", "1.0x"]
        lines.append("| " + " | ".join(cells) + " |")
        print("  ".join(cells), flush=True)
    runs = RUNS
    if args.runs:
        runs = [(item.split()[0], int(item.split()[1])) for item in args.runs.split(",")]
    for name, network in NETWORKS.items():
        if args.networks not in name:
            continue
        for row in measure(network, device, args.repeats, runs, reference):
            cells = [
                name,
                row["sampler"],
                f"{row['seconds']:.2f}",
                f"{row['window-samples/s']:.0f}",
                f"{row['denoiser calls/s']:.0f}",
                str(row["batched calls"]),
                f"{row['share in network']:.1%}",
                f"{row['vs PyPOTS CSDI']:.1f}x",
            ]
            lines.append("| " + " | ".join(cells) + " |")
            print("  ".join(cells), flush=True)
    if args.markdown:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
