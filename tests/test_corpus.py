"""The synthetic pretraining corpus: reproducible, varied, and true to its documentation."""

import doctest
import re

import numpy as np
import pytest
from sktime.datatypes import check_is_mtype

from sktime_diffusion import corpus
from sktime_diffusion.corpus import (
    EFFECTS,
    FAMILIES,
    RBF,
    Constant,
    Linear,
    Periodic,
    Product,
    Sum,
    WhiteNoise,
    corpus_panel,
    corpus_plan,
    random_kernel,
    sample_counts,
    sample_gaussian_process,
    sample_intermittent_demand,
    sample_seasonalities,
    synthetic_corpus,
    synthetic_series,
)

#: a corpus of short series: cheap enough to draw a few hundred
SHORT = {"min_length": 16, "max_length": 96}


@pytest.fixture(scope="module")
def short_corpus():
    """400 short series (seed 0) with the family of each."""
    series = synthetic_corpus(400, random_state=0, **SHORT)
    return series, [family for _, family in corpus_plan(400, random_state=0, **SHORT)]


def _autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    centred = values - values.mean()
    return np.array(
        [1.0]
        + [
            centred[:-lag] @ centred[lag:] / (centred @ centred)
            for lag in range(1, max_lag + 1)
        ]
    )


def _empirical_covariance(kernel, length, n_draws, **options):
    rng = np.random.default_rng(0)
    draws = np.stack(
        [sample_gaussian_process(kernel, length, rng, **options) for _ in range(n_draws)]
    )
    return draws.T @ draws / n_draws


def test_one_seed_gives_one_corpus_and_another_seed_another():
    first = synthetic_corpus(5, random_state=3, **SHORT)
    again = synthetic_corpus(5, random_state=3, **SHORT)
    other = synthetic_corpus(5, random_state=4, **SHORT)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(
        len(a) == len(b) and np.allclose(a, b, equal_nan=True)
        for a, b in zip(first, other, strict=True)
    )


def test_series_k_is_the_same_whatever_n_series():
    few = synthetic_corpus(3, random_state=7, **SHORT)
    many = synthetic_corpus(8, random_state=7, **SHORT)
    for a, b in zip(few, many[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    assert corpus_plan(3, random_state=7) == corpus_plan(8, random_state=7)[:3]


def test_the_plan_gives_each_series_length_and_family(short_corpus):
    series, families = short_corpus
    plan = corpus_plan(400, random_state=0, **SHORT)
    assert [length for length, _ in plan] == [len(values) for values in series]
    assert [family for _, family in plan] == families


def test_lengths_stay_within_bounds_and_spread_log_uniformly_over_the_range():
    lengths = [length for length, _ in corpus_plan(300, random_state=1, min_length=16)]
    assert min(lengths) >= 16 and max(lengths) <= 2048
    # log-uniform: a third of the series in each third of log(length)
    thirds = np.histogram(np.log(lengths), bins=np.linspace(np.log(16), np.log(2049), 4))
    assert np.all(np.abs(thirds[0] / 300 - 1 / 3) < 0.1), thirds[0]


def test_every_family_occurs_near_its_weight_in_a_few_hundred_series():
    families = [family for _, family in corpus_plan(400, random_state=0)]
    assert sum(family.weight for family in FAMILIES.values()) == pytest.approx(1.0)
    for name, family in FAMILIES.items():
        share = families.count(name) / len(families)
        # binomial sd of a share of 400 draws is at most 0.025
        assert abs(share - family.weight) < 0.075, (name, share)


def test_module_docstring_states_each_family_weight_and_each_effect_share():
    for name, family in FAMILIES.items():
        assert re.search(rf"``{name}``\s+{family.weight:.2f}", corpus.__doc__), name
    for effect, share in EFFECTS.items():
        assert re.search(rf"{effect}[^.]*\({share}", corpus.__doc__), effect
    assert "no real" in corpus.__doc__


def test_module_docstring_examples_run():
    result = doctest.testmod(corpus)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("kernel", "length", "options"),
    [
        # one Cholesky draw: a composition with every kind of stationary term
        (RBF(3.0) + Periodic(7.0) * Constant(0.5) + WhiteNoise(0.1), 20, {}),
        # blocks of 8 new points, each conditioned on the 8 before (short memory, so
        # the conditioning on half a block is close to exact)
        (RBF(2.0) + WhiteNoise(0.1), 32, {"block_length": 16}),
    ],
    ids=["one block", "in blocks"],
)
def test_gaussian_process_draws_have_their_kernels_covariance(kernel, length, options):
    empirical = _empirical_covariance(kernel, length, 2000, **options)
    expected = kernel.covariance(np.arange(length, dtype=float))
    # measured with 2000 draws: largest entry error 0.08 to 0.13 (variances ~1.1 to 1.6)
    assert np.abs(empirical - expected).max() < 0.2


def test_gaussian_process_draw_falls_back_to_eigendecomposition_when_cholesky_fails():
    class Indefinite:
        """A 'kernel' with a negative eigenvalue: Cholesky fails with any jitter."""

        def covariance(self, positions):
            return np.array([[1.0, 2.0], [2.0, 1.0]])

    values = sample_gaussian_process(Indefinite(), 2, np.random.default_rng(0))
    assert values.shape == (2,) and np.isfinite(values).all()
    # eigen factor keeps the positive eigenvalue 3 along (1, 1): the draw lies on it
    assert values[0] == pytest.approx(values[1])


@pytest.mark.parametrize("period", [7, 12, 24])
@pytest.mark.parametrize("source", ["periodic kernel", "seasonality"])
def test_periodic_series_peak_in_autocorrelation_at_their_period(period, source):
    rng = np.random.default_rng(period)
    if source == "periodic kernel":
        kernel = Periodic(float(period)) + WhiteNoise(0.05)
        values = sample_gaussian_process(kernel, 20 * period, rng)
    else:
        values = sample_seasonalities(rng, 20 * period, periods=[float(period)])
    autocorrelation = _autocorrelation(values, int(1.5 * period))
    assert np.argmax(autocorrelation[2:]) + 2 == period
    assert autocorrelation[period] > 0.8


def test_long_draw_in_blocks_keeps_its_period_from_block_to_block():
    rng = np.random.default_rng(0)
    values = sample_gaussian_process(Periodic(24.0) + WhiteNoise(0.05), 2600, rng)
    # 1024 points drawn at once, then blocks of 512 conditioned on the 512 before:
    # the first cycle still matches cycles 2000 steps (four blocks) later
    first, late = values[:240], values[24 * 85 : 24 * 85 + 240]
    assert np.corrcoef(first, late)[0, 1] > 0.9


def test_random_kernel_combines_up_to_max_terms_kernels_with_sums_and_products():
    def leaves(kernel):
        if isinstance(kernel, Sum | Product):
            return leaves(kernel.left) + leaves(kernel.right)
        return [kernel]

    rng = np.random.default_rng(0)
    kernels = [random_kernel(rng, max_terms=3) for _ in range(200)]
    counts = [len(leaves(kernel)) for kernel in kernels]
    assert set(counts) == {1, 2, 3}
    assert any(isinstance(kernel, Sum) for kernel in kernels)
    assert any(isinstance(kernel, Product) for kernel in kernels)
    kinds = {type(leaf) for kernel in kernels for leaf in leaves(kernel)}
    assert {Periodic, Linear, RBF, WhiteNoise, Constant} <= kinds


def test_intermittent_series_are_mostly_exact_zeros():
    rng = np.random.default_rng(0)
    for _ in range(50):
        values = sample_intermittent_demand(rng, 64)
        # occurrence probability at most 0.4: at least 60 % zeros expected
        assert np.mean(values == 0) > 0.3
        assert values.max() >= 1


def test_count_series_are_non_negative_integers_and_stay_so_in_the_corpus(short_corpus):
    rng = np.random.default_rng(0)
    for values in [sample_counts(rng, 64) for _ in range(10)]:
        assert values.min() >= 0 and np.array_equal(values, np.round(values))
    # in the corpus the count-like families keep their scale: still integers
    series, families = short_corpus
    for values, family in zip(series, families, strict=True):
        if family in ("count", "intermittent"):
            observed = values[~np.isnan(values)]
            assert observed.min() >= 0 and np.array_equal(observed, np.round(observed))


def test_missing_stretches_appear_in_their_documented_share_of_series(short_corpus):
    series, _ = short_corpus
    share = np.mean([np.isnan(values).any() for values in series])
    # binomial sd of the share over 400 series: 0.015
    assert abs(share - EFFECTS["missing stretches"]) < 0.05, share
    for values in series:
        assert np.isnan(values).mean() <= 0.5


def test_values_outside_missing_stretches_are_finite_float64(short_corpus):
    series, _ = short_corpus
    for values in series:
        assert values.dtype == np.float64 and values.ndim == 1
        assert np.isfinite(values[~np.isnan(values)]).all()


def test_continuous_series_span_orders_of_magnitude_and_some_are_strictly_positive(
    short_corpus,
):
    series, families = short_corpus
    continuous = [
        values[~np.isnan(values)]
        for values, family in zip(series, families, strict=True)
        if FAMILIES[family].continuous
    ]
    spreads = np.log10([np.ptp(values) for values in continuous if np.ptp(values) > 0])
    assert spreads.max() - spreads.min() > 4
    positive = np.mean([values.min() > 0 for values in continuous])
    assert positive >= EFFECTS["strictly positive"] - 0.07


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"n_series": 0}, "n_series"),
        ({"n_series": 2.5}, "n_series"),
        ({"n_series": 2, "random_state": -1}, "random_state"),
        ({"n_series": 2, "random_state": "seed"}, "random_state"),
        ({"n_series": 2, "min_length": 4}, "min_length"),
        ({"n_series": 2, "min_length": 100, "max_length": 50}, "max_length"),
        ({"n_series": True}, "n_series"),
    ],
)
@pytest.mark.parametrize("function", [synthetic_corpus, corpus_plan, corpus_panel])
def test_bad_arguments_raise_value_error_naming_the_argument(function, arguments, named):
    with pytest.raises(ValueError, match=named):
        function(**arguments)


def test_bad_series_arguments_raise_value_error_naming_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="length"):
        synthetic_series(rng, 3)
    with pytest.raises(ValueError, match="family"):
        synthetic_series(rng, 32, family="sunspots")
    with pytest.raises(ValueError, match="max_terms"):
        random_kernel(rng, max_terms=0)


def test_corpus_panel_is_a_valid_sktime_panel_of_the_corpus():
    panel = corpus_panel(6, random_state=2, **SHORT)
    assert check_is_mtype(panel, "pd-multiindex", scitype="Panel")
    assert list(panel.columns) == ["value"]
    for k, values in enumerate(synthetic_corpus(6, random_state=2, **SHORT)):
        instance = panel.xs(k, level="instance")
        np.testing.assert_array_equal(instance.index, np.arange(len(values)))
        np.testing.assert_array_equal(instance["value"].to_numpy(), values)
