import math

import pytest
import torch

from sktime_diffusion.engine import SCHEDULES, make_schedule
from sktime_diffusion.engine.schedules import DiscreteSchedule


@pytest.mark.parametrize("name", SCHEDULES)
def test_time_zero_is_clean_data(name):
    alpha, sigma = make_schedule(name).alpha_sigma(torch.tensor([0.0]))
    assert float(alpha) == 1.0 and float(sigma) == 0.0


@pytest.mark.parametrize("name", ["linear", "quadratic", "cosine", "vp"])
def test_variance_preserving_schedules_keep_unit_variance(name):
    t = torch.linspace(0.0, 1.0, 101, dtype=torch.float64)
    alpha, sigma = make_schedule(name).alpha_sigma(t)
    torch.testing.assert_close(alpha**2 + sigma**2, torch.ones_like(t))


@pytest.mark.parametrize("name", SCHEDULES)
def test_log_snr_decreases_with_time(name):
    schedule = make_schedule(name)
    t = torch.linspace(schedule.t_min, 1.0, 200, dtype=torch.float64)
    assert bool((schedule.log_snr(t).diff() < 0).all())


@pytest.mark.parametrize("name", SCHEDULES)
def test_time_at_log_snr_inverts_log_snr(name):
    schedule = make_schedule(name)
    t = torch.linspace(schedule.t_min, 1.0, 17, dtype=torch.float64)
    recovered = schedule.time_at_log_snr(schedule.log_snr(t))
    torch.testing.assert_close(recovered, t, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", SCHEDULES)
def test_start_of_sampling_is_almost_pure_noise(name):
    schedule = make_schedule(name)
    alpha, sigma = schedule.alpha_sigma(torch.tensor([1.0]))
    assert float(alpha / sigma) < 0.03


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("spacing", ["time", "log_snr"])
def test_sampling_grid_descends_to_zero(name, spacing):
    grid = make_schedule(name).sampling_times(12, spacing)
    assert grid.shape == (13,)
    assert float(grid[0]) == 1.0 and float(grid[-1]) == 0.0
    assert bool((grid.diff() < 0).all())


def test_discrete_grid_with_all_steps_is_the_training_grid():
    schedule = DiscreteSchedule("quadratic", n_steps=50)
    grid = schedule.sampling_times(50)
    torch.testing.assert_close(grid[:-1], schedule.grid_times.flip(0))


def test_discrete_schedule_matches_its_alphas_cumprod_on_the_grid():
    schedule = DiscreteSchedule("linear", n_steps=100)
    alpha, _ = schedule.alpha_sigma(schedule.grid_times)
    torch.testing.assert_close(alpha**2, schedule.alphas_cumprod)


def test_quadratic_schedule_is_csdi():
    schedule = DiscreteSchedule("quadratic", n_steps=50)
    expected = torch.linspace(1e-4**0.5, 0.5**0.5, 50, dtype=torch.float64) ** 2
    torch.testing.assert_close(schedule.betas, expected)


def test_ve_sigma_is_geometric():
    schedule = make_schedule("ve", sigma_min=0.01, sigma_max=100.0)
    sigma = schedule.sigma(torch.tensor([0.5], dtype=torch.float64))
    assert math.isclose(float(sigma), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_rebuilds_from_its_config(name):
    schedule = make_schedule(name)
    rebuilt = make_schedule(schedule.kind, **schedule.config())
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    torch.testing.assert_close(rebuilt.log_snr(t[1:]), schedule.log_snr(t[1:]))


def test_discrete_training_times_lie_on_the_grid():
    schedule = DiscreteSchedule("cosine", n_steps=20)
    t = schedule.training_times(1000, torch.Generator().manual_seed(0))
    steps = t * 20
    torch.testing.assert_close(steps, steps.round())
    assert float(t.min()) >= 1 / 20 and float(t.max()) <= 1.0


@pytest.mark.parametrize("name", ["cosine", "vp", "ve"])
def test_training_time_power_moves_training_towards_low_noise(name):
    schedule = make_schedule(name)

    def times(power):
        generator = torch.Generator().manual_seed(0)
        return schedule.training_times(20_000, generator, power=power)

    uniform, skewed = times(1.0), times(2.0)
    # u ** 2 of uniform u has mean 1/3 and median 1/4 on [0, 1]
    assert float(uniform.mean()) == pytest.approx(0.5, abs=0.02)
    assert float(skewed.mean()) == pytest.approx(1 / 3, abs=0.02)
    assert float(skewed.median()) == pytest.approx(0.25, abs=0.02)
    assert float(skewed.min()) >= schedule.t_min - 1e-6 and float(skewed.max()) <= 1.0
    with pytest.raises(ValueError, match="power"):
        times(0.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_schedule("sigmoid"), "unknown schedule"),
        (lambda: make_schedule("linear", n_steps=1), "n_steps"),
        (lambda: make_schedule("vp", beta_min=5, beta_max=1), "beta_min"),
        (lambda: make_schedule("ve", sigma_min=0), "sigma_min"),
        (lambda: make_schedule("linear", beta_start=0.5, beta_end=1.5), "betas"),
        (lambda: make_schedule("vp").sampling_times(0), "n_steps"),
        (lambda: make_schedule("vp").sampling_times(5, "karras"), "spacing"),
    ],
)
def test_bad_schedule_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------
# The schedules against their textbook definitions, computed here with plain math (not
# through the alpha_sigma the samplers use).


def _textbook_alpha_bar(kind, n_steps):
    """alpha_bar of grid step i = 1..n_steps from the papers' formulas."""
    if kind == "cosine":  # Nichol & Dhariwal (2021), eq. 17, betas clipped at 0.999
        f = [
            math.cos((i / n_steps + 0.008) / 1.008 * math.pi / 2) ** 2
            for i in range(n_steps + 1)
        ]
        betas = [min(1 - f[i] / f[i - 1], 0.999) for i in range(1, n_steps + 1)]
    elif kind == "linear":  # Ho et al. (2020), betas 1e-4..0.02 at 1000 steps
        start, end = 1e-4 * 1000 / n_steps, 0.02 * 1000 / n_steps
        betas = [start + (end - start) * i / (n_steps - 1) for i in range(n_steps)]
    else:  # CSDI: square roots of the betas linear from 1e-4 to 0.5
        start, end = math.sqrt(1e-4), math.sqrt(0.5)
        betas = [(start + (end - start) * i / (n_steps - 1)) ** 2 for i in range(n_steps)]
    alpha_bar, product = [], 1.0
    for beta in betas:
        product *= 1 - beta
        alpha_bar.append(product)
    return alpha_bar


@pytest.mark.parametrize("kind", ["cosine", "linear", "quadratic"])
def test_discrete_schedules_follow_their_papers_on_the_grid(kind):
    n_steps = 50
    alpha_bar = _textbook_alpha_bar(kind, n_steps)
    times = torch.tensor([(i + 1) / n_steps for i in range(n_steps)], dtype=torch.float64)
    schedule = make_schedule(kind, n_steps=n_steps)
    alpha, sigma = schedule.alpha_sigma(times)
    expected_alpha = torch.tensor([math.sqrt(a) for a in alpha_bar], dtype=torch.float64)
    expected_sigma = torch.tensor(
        [math.sqrt(1 - a) for a in alpha_bar], dtype=torch.float64
    )
    expected_log_snr = torch.tensor(
        [math.log(a / (1 - a)) for a in alpha_bar], dtype=torch.float64
    )
    torch.testing.assert_close(alpha, expected_alpha, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(sigma, expected_sigma, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(schedule.log_snr(times), expected_log_snr, rtol=1e-9, atol=0)


@pytest.mark.parametrize("kind", ["cosine", "linear", "quadratic"])
def test_discrete_schedules_interpolate_log_snr_linearly_between_grid_times(kind):
    n_steps = 50
    alpha_bar = _textbook_alpha_bar(kind, n_steps)
    # a quarter of the way from grid time 11/50 to 12/50 (grid steps 11 and 12)
    low, high = (
        math.log(alpha_bar[10] / (1 - alpha_bar[10])),
        math.log(alpha_bar[11] / (1 - alpha_bar[11])),
    )
    log_snr = 0.75 * low + 0.25 * high
    t = torch.tensor([(11 + 0.25) / n_steps], dtype=torch.float64)
    alpha, sigma = make_schedule(kind, n_steps=n_steps).alpha_sigma(t)
    assert float(alpha[0]) == pytest.approx(math.sqrt(1 / (1 + math.exp(-log_snr))), 1e-12)
    assert float(sigma[0]) == pytest.approx(math.sqrt(1 / (1 + math.exp(log_snr))), 1e-12)


@pytest.mark.parametrize("t", [1e-3, 0.05, 0.3, 0.7, 1.0])
def test_vp_sde_follows_song_et_al(t):
    """alpha = exp(-t**2 (beta_max - beta_min) / 4 - t beta_min / 2), beta in [0.1, 20]."""
    alpha_expected = math.exp(-(t**2) * (20.0 - 0.1) / 4 - t * 0.1 / 2)
    sigma_expected = math.sqrt(1 - alpha_expected**2)
    schedule = make_schedule("vp")
    tensor = torch.tensor([t], dtype=torch.float64)
    alpha, sigma = schedule.alpha_sigma(tensor)
    assert float(alpha[0]) == pytest.approx(alpha_expected, rel=1e-12)
    assert float(sigma[0]) == pytest.approx(sigma_expected, rel=1e-12)
    log_snr = math.log(alpha_expected**2 / sigma_expected**2)
    assert float(schedule.log_snr(tensor)[0]) == pytest.approx(log_snr, rel=1e-10)


@pytest.mark.parametrize("t", [1e-5, 0.05, 0.3, 0.7, 1.0])
def test_ve_sde_follows_song_et_al(t):
    """alpha = 1, sigma = sigma_min (sigma_max / sigma_min) ** t, sigma in [0.01, 80]."""
    schedule = make_schedule("ve")
    tensor = torch.tensor([t], dtype=torch.float64)
    alpha, sigma = schedule.alpha_sigma(tensor)
    sigma_expected = 0.01 * (80.0 / 0.01) ** t
    assert float(alpha[0]) == 1.0
    assert float(sigma[0]) == pytest.approx(sigma_expected, rel=1e-12)
    assert float(schedule.log_snr(tensor)[0]) == pytest.approx(
        -2 * math.log(sigma_expected), rel=1e-10
    )


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("spacing", ["time", "log_snr"])
def test_one_step_grid_goes_from_pure_noise_to_clean_data(name, spacing):
    schedule = make_schedule(name)
    grid = schedule.sampling_times(1, spacing)
    assert grid.tolist() == [schedule.t_max, 0.0]
