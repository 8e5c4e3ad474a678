"""How many steps each sampler needs: its exact-Gaussian error against the step count.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/sampler_steps.py [--markdown] [--min-log-snr X]

For Gaussian data the denoiser ``E[x_0 | x_t]`` is known in closed form, and every
sampler driven by it is an affine map of its Gaussian noise, so the mean and covariance
of its samples are computed exactly (:func:`~sktime_diffusion.engine.gaussian.
exact_sample_moments`: no Monte Carlo error). Each sampler runs on its own time spacing
with the grid of :data:`STEPS` on every schedule the package offers (``cosine``,
``linear`` and ``quadratic`` with 50 discrete steps as the estimators build them, ``vp``
and ``ve``) for the four Gaussians of :func:`cases`: a random covariance over 2 features
x 3 steps, unconditional and with 2 of its 6 entries given, and a smooth AR(1) series of
8 steps (correlation 0.9), unconditional and as a forecast of its last 3 steps from the
first 5. Each row gives the worst relative error of an entry's variance over the four
cases (signed, e.g. -0.20: a variance 20% too small) and the worst error of an entry's
mean in standard deviations. The last table gives the fewest steps of the grid at which
the variance error stays within 5% (and within 10%) at every schedule and case from
there on: the defaults and warning thresholds of ``SAMPLERS``.

``--samplers`` restricts the run to some samplers; ``--min-log-snr`` overrides where
the log-SNR grids of Heun and DPM-Solver++ start (``NoiseSchedule.sampling_times``), to
compare clipping the nearly pure noise steps.
"""

from __future__ import annotations

import argparse
import math

import torch
from _report import environment_line, markdown_table

from sktime_diffusion.engine import SAMPLERS, SCHEDULES, make_schedule
from sktime_diffusion.engine.gaussian import conditional_gaussian, exact_sample_moments

STEPS = (10, 15, 20, 25, 50, 100, 200, 250, 500, 1000)
#: the estimators' discrete schedules have 50 steps (their n_diffusion_steps default)
N_DIFFUSION_STEPS = 50
#: the tolerances that choose a sampler's default steps and its warning threshold
DEFAULT_TOLERANCE, WARNING_TOLERANCE = 0.05, 0.10


def cases() -> dict[str, dict]:
    """The Gaussians: mean (n_features, length), covariance, given mask and values."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, dtype=torch.float64, generator=generator)
    random_cov = a @ a.T / 6 + 0.3 * torch.eye(6, dtype=torch.float64)
    random_mean = torch.randn(6, dtype=torch.float64, generator=generator).reshape(2, 3)
    random_given = torch.tensor([True, False, False, False, True, False]).reshape(2, 3)
    random_values = torch.tensor([1.5, 0.0, 0.0, 0.0, -0.5, 0.0]).reshape(2, 3)
    lags = torch.arange(8, dtype=torch.float64)
    ar_cov = 0.9 ** (lags[:, None] - lags[None, :]).abs()
    ar_mean = torch.zeros(1, 8, dtype=torch.float64)
    ar_given = (lags < 5).reshape(1, 8)
    ar_values = torch.tensor([[0.3, 0.6, 1.0, 1.2, 1.1, 0.0, 0.0, 0.0]])
    return {
        "random 2x3": {"mean": random_mean, "covariance": random_cov},
        "random 2x3, 2 given": {
            "mean": random_mean,
            "covariance": random_cov,
            "given": random_given,
            "given_values": random_values.to(torch.float64),
        },
        "AR(1) 1x8": {"mean": ar_mean, "covariance": ar_cov},
        "AR(1) 1x8, forecast 3": {
            "mean": ar_mean,
            "covariance": ar_cov,
            "given": ar_given,
            "given_values": ar_values.to(torch.float64),
        },
    }


def build_schedule(name: str):
    """A schedule as the estimators build it."""
    if name in ("linear", "quadratic", "cosine"):
        return make_schedule(name, n_steps=N_DIFFUSION_STEPS)
    return make_schedule(name)


def errors(sampler: str, schedule, case: dict, n_steps: int, min_log_snr) -> tuple:
    """Worst signed relative variance error and worst mean error (in sd) on targets."""
    spacing = SAMPLERS[sampler].spacing
    if min_log_snr is None:
        times = schedule.sampling_times(n_steps, spacing)
    else:
        times = schedule.sampling_times(n_steps, spacing, min_log_snr=min_log_snr)
    mean, covariance = case["mean"], case["covariance"]
    got_mean, got_cov = exact_sample_moments(
        sampler,
        schedule,
        mean,
        covariance,
        times,
        given=case.get("given"),
        given_values=case.get("given_values"),
    )
    if "given" in case:
        given = case["given"].reshape(-1)
        want_mean, want_cov = conditional_gaussian(
            mean.reshape(-1), covariance, given, case["given_values"].reshape(-1)
        )
        got_mean, got_cov = got_mean[~given], got_cov[~given][:, ~given]
    else:
        want_mean, want_cov = mean.reshape(-1), covariance
    variance_error = got_cov.diag() / want_cov.diag() - 1.0
    worst = int(variance_error.abs().argmax())
    mean_error = ((got_mean - want_mean).abs() / want_cov.diag().sqrt()).max()
    return float(variance_error[worst]), float(mean_error)


def measure(samplers: list[str], min_log_snr) -> list[dict]:
    """One row per sampler, schedule and step count.

    A sampler's grid stops after two step counts in a row within the 5% tolerance on
    every schedule (the errors fall with the step count): more steps are not needed to
    choose its default, and the stochastic samplers' exact moments cost steps squared.
    """
    rows = []
    all_cases = cases()
    schedules = {name: build_schedule(name) for name in SCHEDULES}
    for sampler in samplers:
        within_in_a_row = 0
        for n_steps in STEPS:
            worst = 0.0
            for schedule_name, schedule in schedules.items():
                results = [
                    errors(sampler, schedule, case, n_steps, min_log_snr)
                    for case in all_cases.values()
                ]
                variance = max((r[0] for r in results), key=abs)
                worst = max(worst, abs(variance))
                rows.append(
                    {
                        "sampler": sampler,
                        "schedule": schedule_name,
                        "steps": n_steps,
                        "variance error": variance,
                        "mean error (sd)": max(r[1] for r in results),
                    }
                )
            print(f"  {sampler} {n_steps}: worst variance error {worst:.3f}", flush=True)
            within_in_a_row = within_in_a_row + 1 if worst <= DEFAULT_TOLERANCE else 0
            if within_in_a_row == 2:
                break
    return rows


def fewest_steps(rows: list[dict], sampler: str, tolerance: float) -> float:
    """Fewest grid steps from which the variance error stays within ``tolerance``."""
    measured = sorted({r["steps"] for r in rows if r["sampler"] == sampler})
    worst = {
        n: max(
            abs(r["variance error"])
            for r in rows
            if r["sampler"] == sampler and r["steps"] == n
        )
        for n in measured
    }
    for index, n in enumerate(measured):
        if all(worst[m] <= tolerance for m in measured[index:]):
            return n
    return math.nan


def pivot(rows: list[dict], samplers: list[str], column: str) -> list[dict]:
    """Rows of sampler x steps, one column per schedule."""
    table = []
    for sampler in samplers:
        for n_steps in STEPS:
            row = {"sampler": sampler, "steps": n_steps}
            for r in rows:
                if r["sampler"] == sampler and r["steps"] == n_steps:
                    row[r["schedule"]] = r[column]
            if len(row) > 2:
                table.append(row)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="pivoted Markdown tables")
    parser.add_argument(
        "--min-log-snr",
        type=float,
        default=None,
        help="start of the log-SNR grids (default: the engine's; -inf: no clipping)",
    )
    parser.add_argument(
        "--samplers", nargs="+", default=list(SAMPLERS), choices=list(SAMPLERS)
    )
    args = parser.parse_args()
    print(environment_line())
    clip = "engine default" if args.min_log_snr is None else args.min_log_snr
    print(f"min_log_snr: {clip}")
    rows = measure(args.samplers, args.min_log_snr)
    columns = ["sampler", "steps", *SCHEDULES]
    if args.markdown:
        print("\nWorst relative variance error of the target entries over the four cases\n")
        print(markdown_table(pivot(rows, args.samplers, "variance error"), columns))
        print("\nWorst mean error of the target entries in standard deviations\n")
        print(markdown_table(pivot(rows, args.samplers, "mean error (sd)"), columns))
    else:
        print(
            markdown_table(
                rows,
                ["sampler", "schedule", "steps", "variance error", "mean error (sd)"],
                {"variance error": 4, "mean error (sd)": 4},
            )
        )
    summary = [
        {
            "sampler": sampler,
            "default: within 5%": fewest_steps(rows, sampler, DEFAULT_TOLERANCE),
            "warn below: within 10%": fewest_steps(rows, sampler, WARNING_TOLERANCE),
            "shipped default": SAMPLERS[sampler].default_steps,
            "shipped minimum": SAMPLERS[sampler].min_steps,
        }
        for sampler in args.samplers
    ]
    print("\nFewest grid steps with the variance error within tolerance from there on\n")
    print(markdown_table(summary, list(summary[0])))


if __name__ == "__main__":
    main()
