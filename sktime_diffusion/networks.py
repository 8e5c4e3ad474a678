"""Network specifications: estimator-like objects that grid search can reach.

An estimator's ``network`` parameter holds one of these; its own parameters are
reachable as ``network__channels``, ``network__n_layers`` and so on, exactly like a
nested sktime or scikit-learn estimator. The specification builds the torch module
(:mod:`sktime_diffusion.engine.denoisers`) once the data fixes the number of features and
side channels.
"""

from __future__ import annotations

from typing import Any

from skbase.base import BaseObject

__all__ = ["CSDINetwork", "DilatedConvNetwork", "NetworkSpec"]


class NetworkSpec(BaseObject):
    """Base class: a network's hyper-parameters, without the data-given sizes."""

    #: ``kind`` of :func:`sktime_diffusion.engine.build_network`
    kind: str = ""

    def network_config(self, n_features: int, n_side: int) -> dict[str, Any]:
        """Configuration for :class:`sktime_diffusion.engine.DiffusionModel`.

        Parameters
        ----------
        n_features : int
            Features of a window.
        n_side : int
            Side channels (exogenous covariates).

        Returns
        -------
        dict
            ``{"kind": ..., "n_features": ..., "n_side": ..., **parameters}``.
        """
        return {
            "kind": self.kind,
            "n_features": int(n_features),
            "n_side": int(n_side),
            **self.get_params(deep=False),
        }


class CSDINetwork(NetworkSpec):
    """CSDI-style residual stack with temporal and feature attention.

    Best where features interact (multivariate imputation); its cost grows with the
    square of the window length and of the number of features.

    Parameters
    ----------
    channels : int, default=32
        Width of each entry's hidden vector.
    n_layers : int, default=2
        Residual layers.
    n_heads : int, default=4
        Attention heads; must divide ``channels``.
    time_embedding_dim : int, default=64
        Size of the diffusion-time embedding.
    position_embedding_dim : int, default=32
        Size of the sinusoidal position-in-window embedding.
    feature_embedding_dim : int, default=16
        Size of the learned per-feature embedding.
    feedforward_dim : int or None, default=None
        Hidden size of the transformers' feed-forward block; ``None`` means
        ``channels``.

    Examples
    --------
    >>> from sktime_diffusion.networks import CSDINetwork
    >>> CSDINetwork(channels=16).network_config(n_features=3, n_side=0)["channels"]
    16
    """

    kind = "csdi"

    def __init__(
        self,
        channels: int = 32,
        n_layers: int = 2,
        n_heads: int = 4,
        time_embedding_dim: int = 64,
        position_embedding_dim: int = 32,
        feature_embedding_dim: int = 16,
        feedforward_dim: int | None = None,
    ) -> None:
        self.channels = channels
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.time_embedding_dim = time_embedding_dim
        self.position_embedding_dim = position_embedding_dim
        self.feature_embedding_dim = feature_embedding_dim
        self.feedforward_dim = feedforward_dim
        super().__init__()

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Small configurations for tests."""
        return [
            {"channels": 8, "n_layers": 1, "n_heads": 2, "time_embedding_dim": 16},
            {"channels": 16, "n_layers": 2, "n_heads": 4},
        ]


class DilatedConvNetwork(NetworkSpec):
    """Gated residual blocks of dilated 1D convolutions over time (WaveNet style).

    Cheap for long windows: cost is linear in the window length.

    Parameters
    ----------
    channels : int, default=32
        Hidden channels.
    n_layers : int, default=8
        Residual blocks; with ``dilation_cycle=4`` and ``kernel_size=3`` they see 61
        steps.
    dilation_cycle : int, default=4
        Block ``i`` has dilation ``2 ** (i % dilation_cycle)``.
    kernel_size : int, default=3
        Odd convolution width.
    time_embedding_dim : int, default=64
        Size of the diffusion-time embedding.

    Examples
    --------
    >>> from sktime_diffusion.networks import DilatedConvNetwork
    >>> DilatedConvNetwork(n_layers=4).get_params()["n_layers"]
    4
    """

    kind = "dilated_conv"

    def __init__(
        self,
        channels: int = 32,
        n_layers: int = 8,
        dilation_cycle: int = 4,
        kernel_size: int = 3,
        time_embedding_dim: int = 64,
    ) -> None:
        self.channels = channels
        self.n_layers = n_layers
        self.dilation_cycle = dilation_cycle
        self.kernel_size = kernel_size
        self.time_embedding_dim = time_embedding_dim
        super().__init__()

    @property
    def receptive_field(self) -> int:
        """Steps one output entry sees: ``1 + (kernel_size - 1) * sum(dilations)``."""
        dilations = [2 ** (i % self.dilation_cycle) for i in range(self.n_layers)]
        return 1 + (self.kernel_size - 1) * sum(dilations)

    @classmethod
    def covering(cls, window_length: int) -> DilatedConvNetwork:
        """The default network, with enough dilation to see a whole window.

        Two cycles of blocks (``n_layers = 2 * dilation_cycle``) with the smallest
        ``dilation_cycle`` of at least 4 whose receptive field covers
        ``window_length`` steps: the default network (61 steps) up to windows of 61,
        10 blocks (125 steps) up to 125, 12 blocks (253 steps) up to 253, ...

        Parameters
        ----------
        window_length : int
            Steps per window, >= 1.

        Returns
        -------
        DilatedConvNetwork

        Examples
        --------
        >>> from sktime_diffusion.networks import DilatedConvNetwork
        >>> DilatedConvNetwork.covering(24) == DilatedConvNetwork()
        True
        >>> network = DilatedConvNetwork.covering(96)
        >>> network.n_layers, network.dilation_cycle, network.receptive_field
        (10, 5, 125)
        """
        cycle = 4
        while cls(n_layers=2 * cycle, dilation_cycle=cycle).receptive_field < window_length:
            cycle += 1
        return cls(n_layers=2 * cycle, dilation_cycle=cycle)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Small configurations for tests."""
        return [
            {"channels": 8, "n_layers": 2, "time_embedding_dim": 16},
            {"channels": 16, "n_layers": 3, "dilation_cycle": 2},
        ]
