import numpy as np
import pytest
from scipy import stats

from sktime_diffusion.metrics import (
    best_f1,
    crps_from_quantiles,
    crps_from_samples,
    interval_coverage,
    pinball_loss,
    point_adjusted_scores,
)


def _gaussian_crps(mu, sigma, y):
    z = (y - mu) / sigma
    return sigma * (
        z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi)
    )


def test_sample_crps_matches_the_closed_form_for_a_gaussian():
    rng = np.random.default_rng(0)
    samples = rng.normal(1.0, 2.0, size=(20000, 3))
    observed = np.array([1.0, -2.0, 5.0])
    np.testing.assert_allclose(
        crps_from_samples(samples, observed), _gaussian_crps(1.0, 2.0, observed), rtol=0.02
    )


def test_sample_crps_of_a_point_mass_is_the_absolute_error():
    samples = np.full((10, 2), 3.0)
    np.testing.assert_allclose(crps_from_samples(samples, np.array([1.0, 4.0])), [2.0, 1.0])


def test_quantile_crps_approaches_the_closed_form():
    levels = np.arange(1, 100) / 100
    quantiles = stats.norm.ppf(levels, loc=0.0, scale=1.0)
    value = crps_from_quantiles(quantiles[None, :], np.array([0.5]), levels)
    assert value[0] == pytest.approx(_gaussian_crps(0.0, 1.0, 0.5), rel=0.03)


def test_pinball_loss_is_asymmetric():
    loss = pinball_loss(np.array([[0.0, 0.0]]), np.array([1.0]), [0.1, 0.9])
    np.testing.assert_allclose(loss, [[0.1, 0.9]])


def test_interval_coverage_counts_inside_points():
    assert (
        interval_coverage(np.zeros(4), np.ones(4), np.array([0.5, 1.0, 2.0, -1.0])) == 0.5
    )


def test_best_f1_of_perfect_and_of_inverted_scores():
    labels = np.array([0, 0, 1, 1, 0, 0, 0, 0])
    assert best_f1(labels, labels * 5.0) == 1.0
    # inverted scores: the best threshold flags everything, F1 = 2 * (2/8) / (1 + 2/8)
    assert best_f1(labels, -labels * 5.0) == pytest.approx(0.4)
    assert best_f1(np.zeros(4), np.arange(4.0)) == 0.0


def test_point_adjustment_gives_each_segment_its_highest_score():
    labels = np.array([0, 1, 1, 1, 0, 1, 1, 0])
    scores = np.array([0.5, 0.1, 0.9, 0.2, 0.3, 0.0, 0.4, 0.8])
    adjusted = point_adjusted_scores(labels, scores)
    np.testing.assert_array_equal(adjusted, [0.5, 0.9, 0.9, 0.9, 0.3, 0.4, 0.4, 0.8])


def test_point_adjustment_inflates_random_scores_on_long_segments():
    rng = np.random.default_rng(0)
    labels = np.zeros(5000, dtype=bool)
    labels[1000:1400] = labels[3000:3300] = True
    scores = rng.random(5000)
    assert best_f1(labels, scores) < 0.3
    assert best_f1(labels, point_adjusted_scores(labels, scores)) > 0.9
