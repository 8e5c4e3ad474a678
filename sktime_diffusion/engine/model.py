"""The masked conditional diffusion model: forward process, loss, denoiser, save/load.

A window ``x`` of shape ``(batch, n_features, length)`` comes with two boolean masks of
the same shape (see "Windows and masks" in ``docs/concepts.rst``): ``observed`` (the
entry exists) and ``given`` (the model is shown it). The model generates the targets
``observed & ~given`` during training and every entry that is not given during
sampling. Optional side channels of shape ``(batch, n_side, length)`` carry exogenous
covariates and time features.

:class:`DiffusionModel` joins a network, a :class:`NoiseSchedule` and a parameterisation
(what the network predicts: ``"epsilon"``, ``"x0"`` or ``"v"``) into a denoiser
``x_t -> E[x_0 | x_t, given]`` for the samplers, and a training loss.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .baselines import BASELINES, baseline_fill
from .denoisers import build_network
from .device import sampling_device
from .precision import network_autocast
from .schedules import NoiseSchedule, make_schedule

__all__ = [
    "Condition",
    "DiffusionModel",
    "PARAMETERISATIONS",
    "diffuse",
    "regression_target",
    "x0_from_prediction",
]

#: what the network may predict
PARAMETERISATIONS = ("epsilon", "x0", "v")


@dataclass
class Condition:
    """What the model is shown for a batch of windows.

    Parameters
    ----------
    values : torch.Tensor of shape (batch, n_features, length)
        Window values; only the given entries are read (others may hold anything finite).
    given : torch.Tensor of shape (batch, n_features, length), bool
        Entries the model is shown and must reproduce exactly.
    side : torch.Tensor of shape (batch, n_side, length) or None
        Side channels (exogenous covariates, time features), always known.
    """

    values: Tensor
    given: Tensor
    side: Tensor | None = None

    @property
    def shape(self) -> torch.Size:
        """``(batch, n_features, length)``."""
        return self.values.shape

    def repeat(self, n_samples: int) -> Condition:
        """Repeat each window ``n_samples`` times (sample-major within each window)."""
        side = None if self.side is None else self.side.repeat_interleave(n_samples, 0)
        return Condition(
            values=self.values.repeat_interleave(n_samples, 0),
            given=self.given.repeat_interleave(n_samples, 0),
            side=side,
        )

    def slice(self, start: int, stop: int) -> Condition:
        """Windows ``start:stop`` of the batch."""
        side = None if self.side is None else self.side[start:stop]
        return Condition(self.values[start:stop], self.given[start:stop], side)

    def to(self, device: torch.device | str, dtype: torch.dtype) -> Condition:
        """Move to ``device``; values and side channels to ``dtype``."""
        side = None if self.side is None else self.side.to(device=device, dtype=dtype)
        return Condition(
            values=self.values.to(device=device, dtype=dtype),
            given=self.given.to(device=device),
            side=side,
        )

    def validate(self, n_features: int | None = None, n_side: int = 0) -> None:
        """Check shapes, dtypes and finiteness; raise ``ValueError`` naming the problem.

        Parameters
        ----------
        n_features : int or None
            Number of features the model was built for (``None``: any).
        n_side : int
            Number of side channels the model was built for.
        """
        values, given = self.values, self.given
        if not isinstance(values, Tensor) or values.dim() != 3:
            raise ValueError(
                "condition values must be a 3D tensor of shape (batch, n_features, "
                f"length), got {_describe(values)}"
            )
        if not values.is_floating_point():
            raise ValueError(f"condition values must be floating point, got {values.dtype}")
        if not isinstance(given, Tensor) or given.dtype != torch.bool:
            raise ValueError(
                f"the given mask must be a bool tensor, got {_describe(given)}"
            )
        if given.shape != values.shape:
            raise ValueError(
                f"the given mask has shape {tuple(given.shape)} but the values have "
                f"shape {tuple(values.shape)}"
            )
        if n_features is not None and values.shape[1] != n_features:
            raise ValueError(
                f"the model was built for {n_features} features, got {values.shape[1]}"
            )
        if not torch.isfinite(values[given]).all():
            raise ValueError("given entries must be finite (no NaN or inf)")
        side = self.side
        if n_side == 0 and side is not None and side.shape[1] > 0:
            raise ValueError(
                f"the model was built without side channels, got {side.shape[1]}"
            )
        if n_side > 0:
            if side is None:
                raise ValueError(f"the model needs {n_side} side channels, got none")
            expected = (values.shape[0], n_side, values.shape[2])
            if tuple(side.shape) != expected:
                raise ValueError(
                    f"side channels must have shape {expected}, got {tuple(side.shape)}"
                )
            if not torch.isfinite(side).all():
                raise ValueError("side channels must be finite (no NaN or inf)")


def _describe(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return f"a {obj.dtype} tensor of shape {tuple(obj.shape)}"
    return f"an object of type {type(obj).__name__}"


def _expand(level: Tensor, like: Tensor) -> Tensor:
    """Reshape per-window levels of shape (batch,) to broadcast against ``like``."""
    return level.reshape(-1, *([1] * (like.dim() - 1))).to(like)


def diffuse(x0: Tensor, noise: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
    """Sample ``q(x_t | x_0)``: ``alpha * x0 + sigma * noise``.

    Parameters
    ----------
    x0, noise : torch.Tensor of shape (batch, n_features, length)
    alpha, sigma : torch.Tensor of shape (batch,)

    Returns
    -------
    torch.Tensor of shape (batch, n_features, length)
    """
    return _expand(alpha, x0) * x0 + _expand(sigma, x0) * noise


def regression_target(
    parameterisation: str, x0: Tensor, noise: Tensor, alpha: Tensor, sigma: Tensor
) -> Tensor:
    """What the network is trained to output under ``parameterisation``.

    ``epsilon``: the noise; ``x0``: the clean window; ``v``:
    ``(alpha noise - sigma x0) / sqrt(alpha**2 + sigma**2)``, the velocity of Salimans &
    Ho (2022) scaled to unit variance for unit-variance data on every schedule (on VP
    schedules ``alpha**2 + sigma**2 = 1`` and it is theirs; on VE its unscaled variance
    would reach ``sigma_max**2``).

    Parameters
    ----------
    parameterisation : {"epsilon", "x0", "v"}
    x0, noise : torch.Tensor of shape (batch, n_features, length)
    alpha, sigma : torch.Tensor of shape (batch,)
        Levels at each window's time; float64 levels make the v scale exactly 1 on VP
        schedules (as :meth:`NoiseSchedule.alpha_sigma` of float64 times gives them).

    Returns
    -------
    torch.Tensor of shape (batch, n_features, length)
    """
    if parameterisation == "epsilon":
        return noise
    if parameterisation == "x0":
        return x0
    if parameterisation == "v":
        a, s = _expand(alpha, x0), _expand(sigma, x0)
        return (a * noise - s * x0) * _v_scale(alpha, sigma, x0)
    raise ValueError(
        f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}"
    )


def x0_from_prediction(
    parameterisation: str, prediction: Tensor, x_t: Tensor, alpha: Tensor, sigma: Tensor
) -> Tensor:
    """Invert :func:`regression_target`: the data estimate from the network output.

    Parameters as :func:`regression_target`, with ``prediction`` and ``x_t`` of shape
    (batch, n_features, length).
    """
    a, s = _expand(alpha, x_t), _expand(sigma, x_t)
    if parameterisation == "epsilon":
        return (x_t - s * prediction) / a
    if parameterisation == "x0":
        return prediction
    if parameterisation == "v":
        velocity = prediction / _v_scale(alpha, sigma, x_t)
        return (a * x_t - s * velocity) / (a**2 + s**2)
    raise ValueError(
        f"parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}"
    )


def _v_scale(alpha: Tensor, sigma: Tensor, like: Tensor) -> Tensor:
    """``1 / sqrt(alpha**2 + sigma**2)`` in the levels' precision, shaped like ``like``."""
    return _expand(torch.rsqrt(alpha**2 + sigma**2), like)


class DiffusionModel(nn.Module):
    """A denoising network with its noise schedule and parameterisation.

    Parameters
    ----------
    network_config : dict
        ``{"kind": ..., **keyword arguments}`` for :func:`build_network`, including
        ``n_features`` and ``n_side``.
    schedule : NoiseSchedule
    parameterisation : {"epsilon", "x0", "v"}
    baseline : {"none", "interpolation", "seasonal", "seasonal_drift"}
        What the diffusion generates: the values themselves (``"none"``), or their
        difference from a fill of the given entries of each feature, added back to
        the samples: their linear interpolation
        (:func:`~sktime_diffusion.engine.baselines.interpolate_given`), or that with
        the last season repeated after them
        (:func:`~sktime_diffusion.engine.baselines.seasonal_fill`), or that with the
        given entries' drift continued
        (:func:`~sktime_diffusion.engine.baselines.seasonal_drift_fill`). With a fill the
        network is shown the filled window (equal to the given values where they are
        given) instead of the given values with zeros between them.
    channel_independent : bool
        Whether the network sees each feature of a window on its own: a network of
        one feature (``network_config["n_features"] == 1``) then serves windows of any
        number of features, each feature a window of its own with the window's side
        channels (as a pretrained backbone serves any series). False: the network
        sees all features of a window together, exactly ``n_features`` of them.

    Notes
    -----
    The network sees ``c_in * x_t`` on the entries it must generate (zero elsewhere) with
    ``c_in = 1 / sqrt(alpha**2 + sigma**2)``, so VE inputs stay of unit scale, next to the
    given values and the given mask. Pickling stores the configuration and a CPU copy of
    the weights, so a model trained on a GPU unpickles on a CPU-only machine.
    """

    def __init__(
        self,
        network_config: dict[str, Any],
        schedule: NoiseSchedule,
        parameterisation: str = "v",
        baseline: str = "none",
        channel_independent: bool = False,
    ) -> None:
        super().__init__()
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(
                f"parameterisation must be one of {PARAMETERISATIONS}, "
                f"got {parameterisation!r}"
            )
        if baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
        if channel_independent and int(network_config["n_features"]) != 1:
            raise ValueError(
                "a channel-independent model needs a network of one feature, got "
                f"n_features={network_config['n_features']}"
            )
        self.baseline = baseline
        self.channel_independent = bool(channel_independent)
        self.network_config = dict(network_config)
        self.network = build_network(**self.network_config)
        self.schedule = schedule
        self.parameterisation = parameterisation

    @property
    def n_features(self) -> int | None:
        """Number of features of a window; None when any number (channel-independent)."""
        if self.channel_independent:
            return None
        return int(self.network_config["n_features"])

    @property
    def n_side(self) -> int:
        """Number of side channels."""
        return int(self.network_config.get("n_side", 0))

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return next(self.parameters()).device

    def baseline_of(self, values: Tensor, given: Tensor) -> Tensor:
        """The baseline the diffusion's values are relative to (zeros for ``"none"``)."""
        return baseline_fill(self.baseline, values, given)

    def predict_x0(
        self,
        x_t: Tensor,
        t: Tensor,
        condition: Condition,
        baseline: Tensor | None = None,
    ) -> Tensor:
        """Data estimate ``E[x_0 | x_t, given]``; given entries are returned as given.

        With a baseline, ``x_t`` and the estimate are differences from the baseline of
        ``condition`` (zero on the given entries), and the network is shown the
        baseline itself in place of the given values (equal to them where given).

        Parameters
        ----------
        x_t : torch.Tensor of shape (batch, n_features, length)
        t : torch.Tensor of shape (batch,)
        condition : Condition
            With the same batch size as ``x_t``.
        baseline : torch.Tensor or None
            :meth:`baseline_of` the condition, if already computed.

        Returns
        -------
        torch.Tensor of shape (batch, n_features, length)
        """
        levels = self.schedule.alpha_sigma(t.to(torch.float64))
        given = condition.given
        shown = self._shown_values(condition.values, given, baseline)
        prediction = self._network_output(x_t, t, levels, shown, given, condition.side)
        x0_hat = x0_from_prediction(self.parameterisation, prediction, x_t, *levels)
        if self.baseline != "none":
            return torch.where(given, torch.zeros_like(x0_hat), x0_hat)
        return torch.where(given, condition.values, x0_hat)

    def _shown_values(
        self, values: Tensor, given: Tensor, baseline: Tensor | None = None
    ) -> Tensor:
        """What the network is shown of the condition, shape (batch, n_features, length).

        Without a baseline the given values (zero elsewhere); with one, the baseline of
        the given values (``baseline`` where the caller has it already).
        """
        if self.baseline == "none":
            return torch.where(given, values, torch.zeros_like(values))
        return self.baseline_of(values, given) if baseline is None else baseline

    def _network_output(
        self,
        x_t: Tensor,
        t: Tensor,
        levels: tuple[Tensor, Tensor],
        shown: Tensor,
        given: Tensor,
        side: Tensor | None,
    ) -> Tensor:
        """The network's prediction for ``x_t``, the one place its input is built.

        The network sees ``c_in * x_t`` on the entries to generate and zero on the given
        ones (see the class Notes), next to ``shown`` (:meth:`_shown_values`), the
        ``given`` mask and the side channels. Used by sampling and by the loss alike.

        Parameters
        ----------
        x_t : torch.Tensor of shape (batch, n_features, length)
        t : torch.Tensor of shape (batch,)
        levels : (alpha, sigma), torch.Tensor of shape (batch,) each
            The schedule's levels at ``t`` (any float dtype; cast to ``x_t``'s).
        shown, given : torch.Tensor of shape (batch, n_features, length)
        side : torch.Tensor of shape (batch, n_side, length) or None

        Returns
        -------
        torch.Tensor of shape (batch, n_features, length)
        """
        alpha, sigma = levels[0].to(x_t), levels[1].to(x_t)
        c_in = _expand(torch.rsqrt(alpha**2 + sigma**2), x_t)
        network_input = torch.where(given, torch.zeros_like(x_t), c_in * x_t)
        if not self.channel_independent:
            with network_autocast(x_t.device):
                prediction = self.network(network_input, t, shown, given, side)
            return prediction.to(x_t.dtype)
        batch, n_features, length = x_t.shape

        def one_feature_each(tensor: Tensor) -> Tensor:
            return tensor.reshape(batch * n_features, 1, length)

        if side is not None:
            side = side.repeat_interleave(n_features, dim=0)
        with network_autocast(x_t.device):
            prediction = self.network(
                one_feature_each(network_input),
                t.repeat_interleave(n_features),
                one_feature_each(shown),
                one_feature_each(given),
                side,
            )
        return prediction.to(x_t.dtype).reshape(batch, n_features, length)

    def denoiser(self, condition: Condition, baseline: Tensor | None = None):
        """The function ``(x_t, t) -> x0_hat`` that samplers call, for ``condition``.

        ``baseline``: :meth:`baseline_of` the condition, if the caller already has it
        (computed here otherwise, once for all the sampler's calls).
        """
        if baseline is None and self.baseline != "none":
            baseline = self.baseline_of(condition.values, condition.given)

        def denoise(x_t: Tensor, t: Tensor) -> Tensor:
            return self.predict_x0(x_t, t, condition, baseline)

        return denoise

    def loss(
        self,
        x0: Tensor,
        observed: Tensor,
        given: Tensor,
        side: Tensor | None = None,
        generator: torch.Generator | None = None,
        time_power: float = 1.0,
        shard: slice | None = None,
    ) -> Tensor:
        """Mean squared error of the network output on the target entries only.

        Parameters
        ----------
        x0 : torch.Tensor of shape (batch, n_features, length)
            Clean windows (missing entries may hold anything finite).
        observed, given : torch.Tensor of shape (batch, n_features, length), bool
            Targets are ``observed & ~given``.
        side : torch.Tensor of shape (batch, n_side, length) or None
        generator : torch.Generator or None
            Draws the times and the noise.
        time_power : float
            Skew of the diffusion times drawn (see ``NoiseSchedule.training_times``):
            1 is uniform, larger values weigh low noise more.
        shard : slice or None
            Data-parallel training (:mod:`.distributed`): the windows of the batch
            this process runs the network on. The times and the noise of the whole
            batch are drawn, so each window gets what it would get in one process, and
            the squared error of the shard is divided by the target count of the whole
            batch: the shards' losses add up to the loss of the batch. None: all.

        Returns
        -------
        torch.Tensor, a scalar
        """
        batch = x0.shape[0]
        t = self.schedule.training_times(
            batch, generator=generator, device=x0.device, power=time_power
        )
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        targets = observed & ~given
        n_targets = targets.sum().clamp_min(1)
        if shard is not None:
            x0, observed, given, targets, t, noise = (
                part[shard] for part in (x0, observed, given, targets, t, noise)
            )
            side = None if side is None else side[shard]
        levels = self.schedule.alpha_sigma(t.to(torch.float64))
        alpha, sigma = levels[0].to(x0), levels[1].to(x0)
        x0 = torch.where(observed, x0, torch.zeros_like(x0))
        shown = self._shown_values(x0, given)
        if self.baseline != "none":
            x0 = torch.where(observed, x0 - shown, torch.zeros_like(x0))
        x_t = diffuse(x0, noise, alpha, sigma)
        prediction = self._network_output(x_t, t, levels, shown, given, side)
        target = regression_target(self.parameterisation, x0, noise, *levels)
        weight = targets.to(x0)
        squared_error = (prediction - target).square() * weight
        return squared_error.sum() / n_targets.to(x0)

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        """:meth:`loss`: the call ``DistributedDataParallel`` wraps while training."""
        return self.loss(*args, **kwargs)

    # ----------------------------------------------------------------- persistence
    def config(self) -> dict[str, Any]:
        """Everything but the weights needed to rebuild this model."""
        return {
            "network": dict(self.network_config),
            "schedule": {"kind": self.schedule.kind, **self.schedule.config()},
            "parameterisation": self.parameterisation,
            "baseline": self.baseline,
            "channel_independent": self.channel_independent,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DiffusionModel:
        """Build an untrained model from :meth:`config`."""
        schedule_config = dict(config["schedule"])
        schedule = make_schedule(schedule_config.pop("kind"), **schedule_config)
        return cls(
            config["network"],
            schedule,
            config["parameterisation"],
            config.get("baseline", "none"),
            config.get("channel_independent", False),
        )

    def save(self, path_or_buffer: Any) -> None:
        """Write configuration and weights (on CPU) with :func:`torch.save`."""
        state = {key: value.detach().cpu() for key, value in self.state_dict().items()}
        torch.save({"config": self.config(), "state_dict": state}, path_or_buffer)

    @classmethod
    def load(
        cls, path_or_buffer: Any, device: str | torch.device = "cpu"
    ) -> DiffusionModel:
        """Read a model written by :meth:`save` onto ``device``."""
        payload = torch.load(path_or_buffer, map_location="cpu", weights_only=True)
        model = cls.from_config(payload["config"])
        model.load_state_dict(payload["state_dict"])
        return model.to(device)

    def __reduce__(self):
        buffer = io.BytesIO()
        self.save(buffer)
        return (_load_from_bytes, (buffer.getvalue(), self.training, str(self.device)))


def _load_from_bytes(
    data: bytes, training: bool = False, device: str = "cpu"
) -> DiffusionModel:
    """Unpickle (or deep-copy) a model onto its device, or the CPU where that is missing."""
    model = DiffusionModel.load(io.BytesIO(data), device=sampling_device(device))
    return model.train(training)
