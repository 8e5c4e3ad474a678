import numpy as np
import pytest
from scipy import stats

from sktime_diffusion.metrics import (
    crps_from_quantiles,
    crps_from_samples,
    interval_coverage,
    pinball_loss,
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
