"""The diffusion engine: torch only, knows nothing of pandas or sktime.

- :mod:`.schedules`: noise schedules (discrete linear / quadratic / cosine, VP and VE SDEs);
- :mod:`.model`: masked conditional model, forward process, loss, save and load;
- :mod:`.baselines`: the fills (interpolation, seasonal naive) a model may generate
  differences from;
- :mod:`.samplers`: DDPM, DDIM, Euler-Maruyama, predictor-corrector, Heun, DPM-Solver++;
- :mod:`.sampling`: the batched sampling entry point, ``generate``;
- :mod:`.outpainting`: long series filled window by window, in rounds of batched windows;
- :mod:`.scaling`: the one scaling rule, each window by its given entries;
- :mod:`.denoisers`: the torch networks, CSDI-style and dilated-convolution;
- :mod:`.device`: the device a model runs on, and host-device copies;
- :mod:`.precision`: float32 or bfloat16 mixed precision of the network;
- :mod:`.masks`: random training masks and the grating masks of anomaly scoring;
- :mod:`.training`: the fit loop and its automatic budget;
- :mod:`.series_windows`: training windows cut from whole series batch by batch;
- :mod:`.distributed`: data-parallel training under an initialised process group;
- :mod:`.checkpoints`: training state saved as it goes, so an interrupted fit resumes;
- :mod:`.streams`: the named random streams every seeded draw takes its seed from;
- :mod:`.gaussian`: the exact denoiser of Gaussian data, for checking samplers.
"""

from .denoisers import NETWORKS, build_network
from .device import resolve_device, sampling_device
from .gaussian import GaussianDenoiser, conditional_gaussian
from .masks import MASK_PATTERNS, MaskStrategy, draw_given_mask, grating_hidden
from .model import PARAMETERISATIONS, Condition, DiffusionModel
from .outpainting import OutpaintRound, outpaint
from .precision import PRECISIONS, network_precision
from .samplers import SAMPLERS, SamplerSpec, check_sampler, resolve_sampling_steps
from .sampling import chunk_size, generate
from .scaling import given_entry_scaling
from .schedules import SCHEDULES, NoiseSchedule, make_schedule
from .series_windows import SeriesWindows
from .training import (
    TrainingConfig,
    TrainingHistory,
    WindowData,
    train_model,
    training_budget,
)

__all__ = [
    "chunk_size",
    "Condition",
    "DiffusionModel",
    "GaussianDenoiser",
    "MASK_PATTERNS",
    "MaskStrategy",
    "NETWORKS",
    "NoiseSchedule",
    "OutpaintRound",
    "PARAMETERISATIONS",
    "PRECISIONS",
    "SAMPLERS",
    "SamplerSpec",
    "SCHEDULES",
    "SeriesWindows",
    "TrainingConfig",
    "TrainingHistory",
    "WindowData",
    "build_network",
    "check_sampler",
    "conditional_gaussian",
    "draw_given_mask",
    "generate",
    "given_entry_scaling",
    "grating_hidden",
    "make_schedule",
    "network_precision",
    "outpaint",
    "resolve_sampling_steps",
    "resolve_device",
    "sampling_device",
    "train_model",
    "training_budget",
]
