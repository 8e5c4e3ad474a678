"""The one scaling rule: standardise each window, per feature, by its given entries.

Every estimator standardises what the model sees with :func:`given_entry_scaling`:
the mean and standard deviation of the entries a window is given, never below a
floor. What differs between tasks is only which entries count as given and how large
the window is (see ``concepts.rst``, "Scaling"):

- the forecaster scales each window by its context, with at least a tenth of the
  series' spread (:func:`spread_floor` with ``share=0.1``), while training and while
  outpainting block by block;
- the imputer, the detector and the generator scale each series by all its observed
  entries, the whole series being one window, and exogenous ``X`` is scaled the same
  way, column by column;
- a backbone (:class:`~sktime_diffusion.DiffusionBackbone`) serves all four tasks with
  both steps: each series standardised by all its observed entries, then each window
  by its given entries whatever its mask (:func:`standardise_by_given`, with a floor
  of a tenth of the series' spread, ``BACKBONE_WINDOW_FLOOR``), in training and in
  sampling alike.

Only :func:`given_entry_scaling` computes a scale; the estimators' numpy helpers call it.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "BACKBONE_WINDOW_FLOOR",
    "RELATIVE_SCALE_FLOOR",
    "given_entry_scaling",
    "spread_floor",
    "standardise_by_given",
]

#: smallest window scale relative to the window's level, ``max(|loc|, 1)``: a constant
#: window keeps a tiny scale instead of dividing by zero
RELATIVE_SCALE_FLOOR = 1e-6

#: a backbone's smallest window scale, in units of its series' standard deviation (the
#: series are standardised first): the forecaster's floor, a tenth of the spread
BACKBONE_WINDOW_FLOOR = 0.1


def given_entry_scaling(
    values: Tensor, given: Tensor, floor: Tensor | float = 0.0
) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of each window's given entries, per feature.

    Parameters
    ----------
    values : torch.Tensor of shape (n_windows, n_features, length)
        Finite where given (anything, NaN included, elsewhere).
    given : torch.Tensor of bool, same shape
    floor : torch.Tensor broadcastable to (n_windows, n_features, 1), or float
        Smallest scale; never below ``RELATIVE_SCALE_FLOOR * max(|loc|, 1)``.

    Returns
    -------
    loc, scale : torch.Tensor of shape (n_windows, n_features, 1)
        Standardised windows are ``(values - loc) / scale``. A feature without a given
        entry gets ``loc = 0`` and ``scale = 1``.
    """
    loc, std, has_given = _given_entry_moments(values, given)
    relative = RELATIVE_SCALE_FLOOR * loc.abs().clamp_min(1.0)
    if isinstance(floor, Tensor):
        smallest = torch.maximum(floor.to(values), relative)
    else:  # a number: no tensor made from it (a copy to a GPU would wait)
        smallest = relative.clamp_min(float(floor))
    scale = torch.where(has_given, torch.maximum(std, smallest), torch.ones_like(std))
    return loc, scale


def standardise_by_given(
    values: Tensor, observed: Tensor, given: Tensor, floor: Tensor | float
) -> tuple[Tensor, Tensor, Tensor]:
    """Windows standardised per feature by the observed entries they are given.

    Parameters
    ----------
    values : torch.Tensor of shape (n_windows, n_features, length)
        Finite where observed.
    observed, given : torch.Tensor of bool, same shape
        For a sampling condition both are its ``given`` mask.
    floor : torch.Tensor broadcastable to (n_windows, n_features, 1), or float
        Smallest scale, in the units of ``values`` (see :func:`given_entry_scaling`).

    Returns
    -------
    standardised : torch.Tensor of shape (n_windows, n_features, length)
        ``(values - loc) / scale`` where observed, zero elsewhere; a feature with no
        given entry keeps its values (``loc = 0``, ``scale = 1``), so a window with
        nothing given stays in the units of its series.
    loc, scale : torch.Tensor of shape (n_windows, n_features, 1)
        Draws in standardised units go back as ``draws * scale + loc``.
    """
    loc, scale = given_entry_scaling(values, given & observed, floor)
    standardised = torch.where(observed, (values - loc) / scale, torch.zeros_like(values))
    return standardised, loc, scale


def spread_floor(values: Tensor, given: Tensor, share: float) -> Tensor:
    """A share of each window's spread, the floor a smaller window's scale may not cross.

    Parameters
    ----------
    values, given : torch.Tensor of shape (n_windows, n_features, length)
        As in :func:`given_entry_scaling`; typically one window holding a whole series.
    share : float
        Share of the standard deviation of the given entries.

    Returns
    -------
    torch.Tensor of shape (n_windows, n_features, 1)
        ``max(share * std, RELATIVE_SCALE_FLOOR * max(|mean|, 1))`` (a feature without
        a given entry: ``RELATIVE_SCALE_FLOOR``). A window that is flat while its series
        moves is then scaled by the series' spread, and a constant series keeps a tiny
        scale.
    """
    loc, std, _ = _given_entry_moments(values, given)
    return torch.maximum(share * std, RELATIVE_SCALE_FLOOR * loc.abs().clamp_min(1.0))


def _given_entry_moments(values: Tensor, given: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Mean and population standard deviation of the given entries (0 where none)."""
    count = given.sum(dim=-1, keepdim=True)
    divisor = count.clamp_min(1)
    zero = torch.zeros((), dtype=values.dtype, device=values.device)
    loc = torch.where(given, values, zero).sum(dim=-1, keepdim=True) / divisor
    deviation = torch.where(given, values - loc, zero)
    std = torch.sqrt(deviation.square().sum(dim=-1, keepdim=True) / divisor)
    return loc, std, count > 0
