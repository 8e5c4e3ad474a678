"""The one check of integer parameters (counts), for the engine and the estimators."""

from __future__ import annotations

from numbers import Integral
from typing import Any

__all__ = ["check_count"]


def check_count(
    name: str,
    value: Any,
    minimum: int = 1,
    *,
    allow_none: bool = False,
    owner: str | None = None,
) -> int | None:
    """``value`` as an int, or ``ValueError`` unless it is an integer >= ``minimum``.

    Booleans are refused (``True`` is not a count).

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
    minimum : int
        Smallest value allowed.
    allow_none : bool
        Whether None is allowed too (and returned).
    owner : str or None
        Who checks (an estimator's class name), put in front of the message.

    Returns
    -------
    int, or None where ``value`` is None and ``allow_none``

    Examples
    --------
    >>> from sktime_diffusion.engine.checks import check_count
    >>> check_count("n_steps", 10)
    10
    >>> check_count("horizon", 0, owner="DiffusionForecaster")
    Traceback (most recent call last):
    ...
    ValueError: DiffusionForecaster: horizon must be an integer >= 1, got 0
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        prefix = f"{owner}: " if owner else ""
        allowed = f"an integer >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{prefix}{name} must be {allowed}, got {value!r}")
    return int(value)
