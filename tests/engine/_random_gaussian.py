"""A fixed, well-conditioned Gaussian for the exact-denoiser sampler tests."""

import torch


def random_gaussian(dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (dim,) and covariance (dim, dim) in float64, the same for every seed."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, dim, dtype=torch.float64, generator=generator)
    covariance = a @ a.T / dim + 0.3 * torch.eye(dim, dtype=torch.float64)
    mean = torch.randn(dim, dtype=torch.float64, generator=generator)
    return mean, covariance
