r"""Pretrain the shipped DiffusionBackbone on the synthetic corpus, in resumable stages.

Reproduces the checkpoint from nothing: no data is read or downloaded, every series
comes from :mod:`sktime_diffusion.corpus` (no real data, so no benchmark series leaks
into the pretraining). The run is cut into stages; each stage draws a corpus of its
own (``--series-per-stage`` series, from the stream ``[seed, stage]``), continues
the backbone for ``--steps-per-stage`` steps (``DiffusionBackbone.pretrain`` on a
pretrained backbone continues, with a seed of the stage's own) and saves it to
``<work-dir>/stage_NN.pt``. A stopped run started again with the same arguments loads
the last saved stage and goes on, to the same weights as a run without a break.
``--out`` receives the last stage; ``<work-dir>/log.json`` the settings, the loss and
seconds of every stage, for the model card.

Run from the repository root::

    python pretraining/pretrain_backbone.py --work-dir runs/pretrain \\
        --out sktime_diffusion/weights/backbone.pt
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from sktime_diffusion import DiffusionBackbone, DilatedConvNetwork
from sktime_diffusion.corpus import corpus_panel


def stage_corpus_seed(seed: int, stage: int) -> int:
    """The corpus seed of one stage: its own stream of ``seed``."""
    return int(np.random.SeedSequence([seed, stage]).generate_state(1)[0])


def new_backbone(args: argparse.Namespace) -> DiffusionBackbone:
    """The unpretrained backbone the arguments describe (trained on the CPU)."""
    network = DilatedConvNetwork(
        channels=args.channels, n_layers=args.n_layers, dilation_cycle=args.dilation_cycle
    )
    return DiffusionBackbone(
        window_length=args.window_length,
        baseline=args.baseline,
        network=network,
        training_steps=args.steps_per_stage,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        device="cpu",
        random_state=args.seed,
        verbose=args.verbose,
    )


def saved_stages(work_dir: Path) -> list[Path]:
    """The complete stage files in ``work_dir``, in stage order."""
    return sorted(work_dir.glob("stage_[0-9][0-9].pt"))


def pretrain(args: argparse.Namespace) -> DiffusionBackbone:
    """Run (or resume) every stage; returns the backbone of the last one."""
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "log.json"
    # what the weights depend on (more stages may be asked for on a resume)
    settings = {
        k: v
        for k, v in vars(args).items()
        if k not in ("out", "verbose", "work_dir", "stages", "threads")
    }
    log = {"settings": settings, "stages": []}
    stages = saved_stages(work_dir)
    if stages:
        previous = json.loads(log_path.read_text())
        if previous["settings"] != settings:
            raise SystemExit(
                f"{work_dir} holds stages of other settings: {previous['settings']}"
            )
        log = previous
        # as saved (set_params would reset it to unpretrained, as skbase's does)
        backbone = DiffusionBackbone.load(stages[-1])
        print(f"resuming after stage {len(stages)} ({stages[-1].name})", flush=True)
    else:
        backbone = new_backbone(args)
    for stage in range(len(stages), args.stages):
        started = time.perf_counter()
        panel = corpus_panel(
            args.series_per_stage,
            random_state=stage_corpus_seed(args.seed, stage),
            min_length=args.min_length,
            max_length=args.max_length,
        )
        backbone.pretrain(panel)
        path = work_dir / f"stage_{stage:02d}.pt"
        partial = path.with_suffix(".partial")
        backbone.save(partial)
        os.replace(partial, path)  # a stage file is complete or absent
        losses = backbone.training_history_.train_loss
        log["stages"].append(
            {
                "stage": stage,
                "windows": int(backbone.n_windows_),
                "first_loss": float(losses[0]),
                "last_loss": float(losses[-1]),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        log_path.write_text(json.dumps(log, indent=2))
        print(
            f"stage {stage}: {backbone.n_windows_} windows, loss {losses[0]:.4f} -> "
            f"{losses[-1]:.4f}, {log['stages'][-1]['seconds']} s",
            flush=True,
        )
    return backbone


def main() -> None:
    """Parse the arguments, pretrain (or resume) and write ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", required=True, help="stage files and log.json")
    parser.add_argument("--out", default=None, help="where the last stage is copied")
    parser.add_argument("--stages", type=int, default=6)
    parser.add_argument("--steps-per-stage", type=int, default=600)
    parser.add_argument("--series-per-stage", type=int, default=500)
    parser.add_argument("--min-length", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--window-length", type=int, default=128)
    parser.add_argument(
        "--baseline", default="seasonal", choices=("seasonal", "interpolation", "none")
    )
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--n-layers", type=int, default=8)
    parser.add_argument("--dilation-cycle", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    backbone = pretrain(args)
    if args.out is not None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        backbone.save(args.out)
        size = Path(args.out).stat().st_size / 1e6
        print(f"saved {args.out} ({size:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
