import numpy as np
import pytest
from scipy import stats

from sktime_diffusion.metrics import (
    autocorrelation_distance,
    best_f1,
    cross_correlation_distance,
    crps_from_quantiles,
    crps_from_samples,
    discriminative_score,
    energy_score,
    interval_coverage,
    marginal_distance,
    mlp_discriminative_score,
    nearest_neighbour_ratio,
    out_of_range_share,
    pinball_loss,
    point_adjusted_scores,
    predictive_score,
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


# ------------------------------------------------------------- synthetic series
def _sines(n, length=24, n_features=3, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    frequency = rng.uniform(0.1, 0.3, size=(n, 1, n_features))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, n_features))
    t = np.arange(length)[None, :, None]
    return np.sin(frequency * t + phase) + noise * rng.standard_normal(
        (n, length, n_features)
    )


def test_energy_score_in_one_dimension_is_the_crps():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(200, 4, 1))
    observed = rng.normal(size=(4, 1))
    np.testing.assert_allclose(
        energy_score(samples, observed), crps_from_samples(samples[..., 0], observed[:, 0])
    )


def test_energy_score_prefers_the_true_distribution():
    rng = np.random.default_rng(1)
    observed = rng.normal(size=(300, 5))
    right = rng.normal(size=(100, 300, 5))
    shifted = rng.normal(loc=1.0, size=(100, 300, 5))
    assert energy_score(right, observed).mean() < energy_score(shifted, observed).mean()


@pytest.mark.slow
def test_discriminative_score_real_vs_real_is_small_and_real_vs_noise_is_large():
    real = _sines(300, length=12, n_features=6, seed=0)
    other_real = _sines(300, length=12, n_features=6, seed=1)
    noise = np.random.default_rng(2).uniform(-1, 1, size=real.shape)
    assert discriminative_score(real, other_real, iterations=800) < 0.1
    assert discriminative_score(real, noise, iterations=800) > 0.25


def test_discriminative_score_is_seeded():
    real, noise = _sines(50, length=8), np.random.default_rng(2).normal(size=(50, 8, 3))
    first = discriminative_score(real, noise, iterations=20, random_state=3)
    assert discriminative_score(real, noise, iterations=20, random_state=3) == first


@pytest.mark.slow
def test_predictive_score_is_lower_when_trained_on_data_like_the_real():
    def lagged(seed):  # the last feature is the first one, one step earlier
        sines = _sines(300, length=13, n_features=2, seed=seed)
        return np.concatenate([sines[:, 1:], sines[:, :-1, :1]], axis=2)

    real, other_real = lagged(0), lagged(1)
    noise = np.random.default_rng(2).uniform(-1, 1, size=real.shape)
    floor = predictive_score(real, other_real, iterations=1000)
    assert floor < 0.5 * predictive_score(real, noise, iterations=1000)


def test_marginal_distance_of_a_shift_is_the_shift():
    real = _sines(200)
    assert marginal_distance(real, real) == 0.0
    assert marginal_distance(real, real + 0.3) == pytest.approx(0.3)


def test_autocorrelation_distance_separates_smooth_series_from_white_noise():
    real = _sines(200)
    noise = np.random.default_rng(3).normal(size=real.shape)
    assert autocorrelation_distance(real, _sines(200, seed=5)) < 0.05
    assert autocorrelation_distance(real, noise) > 0.3


def test_window_metrics_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="same length and features"):
        marginal_distance(_sines(10), _sines(10, length=12))


def test_mlp_discriminative_score_tells_a_shift_and_misses_a_fresh_draw():
    real = _sines(300, n_features=2)
    assert mlp_discriminative_score(real, _sines(300, n_features=2, seed=9)) < 0.1
    assert mlp_discriminative_score(real, real + 0.5) > 0.4


def test_mlp_discriminative_score_spots_features_drawn_apart():
    # the same marginals and autocorrelations, but feature 1 no longer moves with 0
    rng = np.random.default_rng(4)
    common = rng.normal(size=(600, 6, 1))
    together = np.concatenate([common, common + 0.05 * rng.normal(size=common.shape)], 2)
    apart = together.copy()
    apart[:, :, 1] = together[rng.permutation(600), :, 1]
    assert mlp_discriminative_score(together, apart) > 0.3


def test_cross_correlation_distance_is_zero_for_the_same_dependence():
    rng = np.random.default_rng(5)
    common = rng.normal(size=(400, 10, 1))
    noise = 0.5 * rng.normal(size=(400, 10, 3))
    together = common + noise
    rescaled = 3.0 * together + 2.0
    assert cross_correlation_distance(together, rescaled) == pytest.approx(0.0, abs=1e-12)
    apart = rng.normal(size=together.shape)
    # the three pairs have correlation 1 / (1 + 0.25) = 0.8 in the data, about 0 apart
    assert cross_correlation_distance(together, apart) == pytest.approx(0.8, abs=0.05)


def test_cross_correlation_distance_needs_two_features():
    with pytest.raises(ValueError, match="at least 2 features"):
        cross_correlation_distance(_sines(10, n_features=1), _sines(10, n_features=1))


def test_out_of_range_share_counts_values_beyond_the_margin_per_feature():
    real = np.stack([np.linspace(0, 1, 40), np.linspace(0, 10, 40)], axis=1)
    real = real.reshape(4, 10, 2)
    synthetic = np.zeros((1, 10, 2))
    synthetic[0, :4, 0] = [-0.06, 1.06, 1.04, -0.04]  # two beyond 0.05
    synthetic[0, :2, 1] = [10.4, 10.6]  # one beyond 0.5
    assert out_of_range_share(real, synthetic) == pytest.approx(3 / 20)
    assert out_of_range_share(real, synthetic, tolerance=0.0) == pytest.approx(6 / 20)
    with pytest.raises(ValueError, match="tolerance"):
        out_of_range_share(real, synthetic, tolerance=-1)


def test_nearest_neighbour_ratio_flags_copies_and_passes_fresh_draws():
    real = _sines(300)
    copies = real[:150] + 1e-4
    assert nearest_neighbour_ratio(real, copies) < 0.05
    assert 0.7 < nearest_neighbour_ratio(real, _sines(300, seed=7)) < 1.5


def test_nearest_neighbour_ratio_skips_overlapping_windows_of_one_series():
    # windows of 4 steps cut from the ramp 0, 1, 2, ...: windows i and j are 2|i - j|
    # apart, and a window shifted by half a step is 1 away from its nearest one
    ramp = np.arange(104.0)[:, None]
    windows = np.lib.stride_tricks.sliding_window_view(ramp, 4, axis=0).transpose(0, 2, 1)
    shifted = windows[:-1] + 0.5
    assert nearest_neighbour_ratio(windows, shifted) == pytest.approx(1 / 2)
    assert nearest_neighbour_ratio(windows, shifted, exclusion=4) == pytest.approx(1 / 10)
    with pytest.raises(ValueError, match="exclusion"):
        nearest_neighbour_ratio(windows[:9], shifted, exclusion=4)
