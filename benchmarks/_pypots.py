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


class CSDIForecaster:
    """PyPOTS' CSDI forecaster behind the calls of the forecasting benchmark.

    Not an sktime estimator: only ``fit(y, fh)``, ``predict()`` and
    ``predict_quantiles(alpha)`` as ``benchmarks/forecasting.py`` makes them. The series
    is z-scored with the training data's mean and standard deviation; CSDI (the
    :data:`SMALL_CSDI` size) learns from windows of ``context + horizon`` steps, and
    forecasts the ``horizon`` steps after the last
    ``context`` observed ones with ``n_samples`` sample paths.

    Parameters
    ----------
    context : int
        Observed steps each forecast conditions on (cut to what the data allows).
    training_steps : int
        Optimiser steps (batches of 32 windows), turned into whole epochs.
    max_windows : int
        Training windows are cut every step, or every few steps so that at most this
        many are used.
    n_samples : int
        Sample paths per forecast.
    random_state : int
        Seeds PyPOTS (torch and numpy).
    """

    def __init__(
        self,
        context: int,
        training_steps: int = 1000,
        max_windows: int = 1000,
        n_samples: int = 100,
        random_state: int = 0,
    ) -> None:
        self.context = context
        self.training_steps = training_steps
        self.max_windows = max_windows
        self.n_samples = n_samples
        self.random_state = random_state

    def fit(self, y, fh):
        """Train on windows of ``y`` (a Series or DataFrame) for the horizon ``fh``."""
        import math

        import numpy as np
        from pypots.forecasting import CSDI
        from pypots.utils.random import set_random_seed

        frame = y.to_frame() if hasattr(y, "to_frame") else y
        values = frame.to_numpy(np.float64)
        self.columns_ = list(frame.columns)
        self.horizon_ = int(max(fh))
        self.loc_, self.scale_ = values.mean(axis=0), values.std(axis=0) + 1e-8
        scaled = ((values - self.loc_) / self.scale_).astype("float32")
        context = min(self.context, len(scaled) - self.horizon_ - 1)
        length = context + self.horizon_
        windows = np.lib.stride_tricks.sliding_window_view(scaled, length, axis=0)
        stride = math.ceil(len(windows) / self.max_windows)
        windows = windows.transpose(0, 2, 1)[::stride]
        epochs = math.ceil(self.training_steps / math.ceil(len(windows) / 32))
        set_random_seed(self.random_state)
        self.model_ = CSDI(
            n_steps=context,
            n_features=scaled.shape[1],
            n_pred_steps=self.horizon_,
            n_pred_features=scaled.shape[1],
            **SMALL_CSDI,
            epochs=epochs,
            batch_size=32,
            device="cpu",
            verbose=False,
        )
        self.model_.fit(
            {"X": windows[:, :context].copy(), "X_pred": windows[:, context:].copy()}
        )
        self.last_context_ = scaled[-context:][None]
        self.samples_ = None
        return self

    def _samples(self):
        """Sample paths, (n_samples, horizon, n_features), in the data's units."""
        import numpy as np

        if self.samples_ is None:
            unknown = np.full((1, self.horizon_, self.last_context_.shape[2]), np.nan)
            result = self.model_.predict(
                {"X": self.last_context_, "X_pred": unknown.astype("float32")},
                n_sampling_times=self.n_samples,
            )
            paths = np.asarray(result["forecasting"], dtype=np.float64)[0]
            self.samples_ = paths * self.scale_ + self.loc_
        return self.samples_

    def predict(self):
        """Median of the sample paths, a DataFrame (horizon, n_features)."""
        import numpy as np
        import pandas as pd

        return pd.DataFrame(np.median(self._samples(), axis=0), columns=self.columns_)

    def predict_quantiles(self, alpha):
        """Empirical quantiles, columns ``(variable, level)`` as in sktime."""
        import numpy as np
        import pandas as pd

        levels = list(alpha)
        q = np.quantile(self._samples(), levels, axis=0)  # (L, horizon, F)
        columns = pd.MultiIndex.from_product([self.columns_, levels])
        return pd.DataFrame(q.transpose(1, 2, 0).reshape(q.shape[1], -1), columns=columns)
