"""PyPOTS peers at the sizes the issues compare against (the ``bench`` extra)."""

from __future__ import annotations

from typing import Any

#: PyPOTS' CSDI at the small configuration of the foundation issue
SMALL_CSDI = {
    "n_layers": 2,
    "n_heads": 8,
    "n_channels": 32,
    "d_time_embedding": 128,
    "d_feature_embedding": 16,
    "d_diffusion_embedding": 128,
    "n_diffusion_steps": 50,
}


def small_csdi(n_steps: int, n_features: int, **options: Any):
    """PyPOTS ``CSDI`` of :data:`SMALL_CSDI` size; ``options`` go to its constructor."""
    from pypots.imputation import CSDI

    return CSDI(n_steps=n_steps, n_features=n_features, **SMALL_CSDI, **options)
