"""The plots draw what they promise: bands, medians, observed values."""

import numpy as np
import pandas as pd
import pytest
from sktime.datasets import load_airline

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionImputer,
    DilatedConvNetwork,
)
from sktime_diffusion.plotting import (
    plot_anomalies,
    plot_fan_chart,
    plot_imputation,
    plot_real_vs_synthetic,
    plot_window_embedding,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

TINY = {
    "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
    "training_steps": 10,
    "n_samples": 10,
    "n_sampling_steps": 3,
    "random_state": 0,
}


def _labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_fan_chart_draws_history_bands_and_median():
    y = load_airline()
    forecaster = DiffusionForecaster(**TINY).fit(y.iloc[:-6], fh=range(1, 7))
    ax = plot_fan_chart(forecaster, y.iloc[:-6], y_true=y.iloc[-6:], title="airline")
    assert _labels(ax) == [
        "history",
        "95% interval",
        "80% interval",
        "50% interval",
        "median",
        "actual",
    ]
    assert ax.get_title() == "airline"
    matplotlib.pyplot.close("all")


def test_imputation_plot_shades_only_around_the_gaps():
    y = load_airline()
    gappy = y.copy()
    gappy.iloc[[20, 21, 80]] = np.nan
    imputer = DiffusionImputer(window_length=12, **TINY).fit(gappy)
    ax = plot_imputation(imputer, gappy, X_true=y)
    assert _labels(ax) == [
        "90% interval",
        "50% interval",
        "observed",
        "imputed (median)",
        "hidden value",
    ]
    imputed_line = ax.get_lines()[1].get_ydata()
    assert np.isfinite(imputed_line).sum() == 7  # the 3 gaps and their 4 neighbours
    matplotlib.pyplot.close("all")


def test_imputation_plot_asks_for_one_series_and_column():
    imputer = DiffusionImputer(window_length=12, **TINY)
    y = load_airline()
    frame = y.to_frame().assign(other=y.to_numpy())
    with pytest.raises(ValueError, match="column"):
        plot_imputation(imputer, frame)


def test_anomaly_plot_shades_the_flagged_stretches_and_draws_the_threshold():
    rng = np.random.default_rng(0)
    y = pd.Series(np.sin(np.arange(240) / 3) + 0.1 * rng.standard_normal(240))
    y.iloc[200] += 5
    detector = DiffusionAnomalyDetector(
        network=DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        window_length=12,
        training_steps=30,
        n_samples=4,
        n_sampling_steps=3,
        contamination=0.05,
        random_state=0,
    ).fit(y.iloc[:160])
    series_ax, score_ax = plot_anomalies(detector, y.iloc[160:], true_windows=[(198, 202)])
    n_segments = len(detector.predict_anomaly_segments(y.iloc[160:]))
    assert n_segments > 0
    assert len(series_ax.patches) == n_segments + 1  # flagged + one labelled window
    assert len(score_ax.patches) == n_segments
    threshold_line = [line for line in score_ax.lines if line.get_label() == "threshold"]
    assert threshold_line[0].get_ydata()[0] == detector.threshold_
    np.testing.assert_allclose(
        score_ax.lines[0].get_ydata(), detector.transform_scores(y.iloc[160:]).iloc[:, 0]
    )
    matplotlib.pyplot.close("all")


def test_real_vs_synthetic_plots_draw_the_windows_and_both_clouds():
    rng = np.random.default_rng(0)
    real, synthetic = rng.normal(size=(50, 12, 3)), rng.normal(size=(40, 12, 3))
    left, right = plot_real_vs_synthetic(real, synthetic, n_series=5, feature=2)
    assert len(left.lines) == len(right.lines) == 5
    assert any(
        np.allclose(line.get_ydata(), real[i, :, 2])
        for line in left.lines
        for i in range(50)
    )
    ax = plot_window_embedding(real, synthetic, max_windows=30)
    assert [len(c.get_offsets()) for c in ax.collections] == [30, 30]
    matplotlib.pyplot.close("all")
