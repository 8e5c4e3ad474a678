"""Cloning that keeps what an object exists to carry (a backbone's pretrained weights).

sktime and scikit-learn clone an estimator, and with it every object among its
parameters, from the parameters alone: fitted state is dropped. That is right for an
estimator, and wrong for a pretrained backbone given as a parameter, whose weights
are the point of passing it (sktime clones estimators in every ``evaluate`` fold and
grid search). :class:`KeepPretrainedState` is the skbase clone plugin of every
estimator here and of the backbone: an object whose class names attributes in
``_kept_on_clone`` is rebuilt from its parameters and gets those attributes back.
The clone shares them: they must never be changed in place (estimators fine-tune
copies of a backbone's model, and ``pretrain`` replaces it).
"""

from __future__ import annotations

from typing import Any

from skbase.base._clone_plugins import BaseCloner

__all__ = ["KeepPretrainedState"]


class KeepPretrainedState(BaseCloner):
    """Clone plugin: objects with ``_kept_on_clone`` keep those attributes."""

    def _check(self, obj: Any) -> bool:
        return bool(getattr(type(obj), "_kept_on_clone", ())) and hasattr(obj, "get_params")

    def _clone(self, obj: Any) -> Any:
        params = {
            name: self.recursive_clone(value, safe=False)
            for name, value in obj.get_params(deep=False).items()
        }
        clone = type(obj)(**params)
        for name in type(obj)._kept_on_clone:
            if hasattr(obj, name):
                setattr(clone, name, getattr(obj, name))
        return clone
