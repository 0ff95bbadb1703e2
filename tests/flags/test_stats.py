"""The experiments' statistics (apps/flags/stats.py) against SciPy and statsmodels on known data.

SciPy and statsmodels are not dependencies of the hub: the expected figures below were computed
with scipy 1.17.1 and statsmodels 0.15.0 (the call that gave each is written beside it), so the
pure module is checked against them without installing them."""

import math

import numpy as np
import pytest

from apps.flags import stats


@pytest.mark.parametrize(
    "baseline, mde, alpha, power, expected",
    [
        # NormalIndPower().solve_power(proportion_effectsize(b * (1 + mde), b), alpha=, power=, ratio=1)
        (0.1, 0.1, 0.05, 0.8, 14744.10483692551),
        (0.05, 0.2, 0.05, 0.9, 10900.647907837296),
        (0.3, -0.05, 0.01, 0.8, 21480.29995977725),
        (0.5, 0.02, 0.1, 0.7, 23520.914235872377),
    ],
)
def test_sample_size_is_statsmodels_power_solution_rounded_up(baseline, mde, alpha, power, expected):
    assert stats.sample_size(baseline=baseline, mde=mde, alpha=alpha, power=power) == math.ceil(expected)


@pytest.mark.parametrize(
    "inputs",
    [
        {"baseline": 0, "mde": 0.1},
        {"baseline": 1.2, "mde": 0.1},
        {"baseline": 0.5, "mde": 0},
        {"baseline": 0.6, "mde": 1},  # 1.2: not a rate
        {"baseline": 0.1, "mde": 0.1, "alpha": 0},
        {"baseline": 0.1, "mde": 0.1, "power": 1},
    ],
)
def test_sample_size_refuses_inputs_that_have_no_answer(inputs):
    with pytest.raises(ValueError):
        stats.sample_size(**inputs)


@pytest.mark.parametrize(
    "statistic, df, expected",
    [  # scipy.stats.chi2.sf(statistic, df)
        (0.5, 1, 0.47950012218695337),
        (3.84, 1, 0.05004352124870519),
        (10, 3, 0.01856613546304325),
        (100, 5, 5.285148360943219e-20),
        (1e-06, 2, 0.999999500000125),
        (250, 40, 3.4695368870539687e-32),
    ],
)
def test_chi_square_tail_matches_scipy(statistic, df, expected):
    assert stats.chi_square_sf(statistic, df) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "observed, weights, statistic, p",
    [  # scipy.stats.chisquare(observed, expected shares of the total)
        ([5000, 5200], [50, 50], 3.9215686274509802, 0.0476703806561615),
        ([1000, 1100, 900], [1, 1, 1], 20.0, 4.539992976248486e-05),
        ([480, 520], [50, 50], 1.6, 0.20590321073206466),
        ([7000, 3000], [60, 40], 416.66666666666663, 1.2971568501090132e-92),
        ([10, 20, 30, 40, 50, 60], [1] * 6, 50.0, 1.3857973367009573e-09),
    ],
)
def test_sample_ratio_mismatch_is_scipy_chisquare(observed, weights, statistic, p):
    got_statistic, got_p = stats.sample_ratio(observed, weights)
    assert got_statistic == pytest.approx(statistic, rel=1e-12)
    assert got_p == pytest.approx(p, rel=1e-9)


def test_no_exposures_is_no_mismatch():
    assert stats.sample_ratio([0, 0], [50, 50]) == (0.0, 1.0)


@pytest.mark.parametrize(
    "converted, exposed, low, high",
    [  # scipy.stats.beta.ppf([0.025, 0.975], 1 + converted, 1 + exposed - converted)
        (120, 1000, 0.10132342, 0.141627),
        (5, 40, 0.05565736, 0.26204468),
        (0, 10, 0.00229897, 0.28491415),
    ],
)
def test_credible_intervals_are_the_beta_posteriors_quantiles(converted, exposed, low, high):
    control, test = stats.compare([stats.Rate("control", exposed, converted), stats.Rate("test", 10, 5)])
    assert control.interval[0] == pytest.approx(low, abs=0.002)
    assert control.interval[1] == pytest.approx(high, abs=0.002)


@pytest.mark.parametrize(
    "control, test, expected",
    [  # integrate.quad(lambda x: beta(1+cb, 1+nb-cb).pdf(x) * beta(1+ca, 1+na-ca).cdf(x), 0, 1)
        ((100, 1000), (120, 1000), 0.9231834389735598),
        ((50, 500), (50, 500), 0.5),
        ((10, 200), (25, 210), 0.9937415473932112),
    ],
)
def test_probability_of_being_best_matches_numerical_integration(control, test, expected):
    results = stats.compare([stats.Rate("control", control[1], control[0]), stats.Rate("test", test[1], test[0])])
    assert results[1].probability_best == pytest.approx(expected, abs=0.004)
    assert results[0].probability_best + results[1].probability_best == pytest.approx(1)


def test_uplift_and_fixed_horizon_p_value_of_two_rates():
    control, test = stats.compare([stats.Rate("control", 1000, 100), stats.Rate("test", 1000, 120)])
    assert test.uplift == pytest.approx(0.2)
    assert test.uplift_interval[0] < 0 < 0.2 < test.uplift_interval[1]
    # 2 * scipy.stats.norm.sf(0.02 / sqrt(.12 * .88 / 1000 + .1 * .9 / 1000)) (unpooled variance)
    assert test.z_p_value == pytest.approx(0.15270801019387775, rel=1e-9)
    assert test.p_value >= test.z_p_value and not test.significant
    assert control.uplift is None and control.p_value is None


def test_means_use_the_unequal_variance_z_test_of_statsmodels():
    # x, y: rng = np.random.default_rng(7); x = round(rng.gamma(2, 15, 400), 2); y = round(rng.gamma(2, 17, 380), 2)
    x = stats.Mean("control", 400, 10659.330000000002, 436111.6515)
    y = stats.Mean("test", 380, 12826.410000000002, 678096.2787)
    assert x.sample_variance == pytest.approx(381.09865006954885, rel=1e-9)  # np.var(x, ddof=1)
    assert y.sample_variance == pytest.approx(646.8531621851132, rel=1e-9)
    control, test = stats.compare([x, y])
    # CompareMeans(DescrStatsW(y), DescrStatsW(x)).ztest_ind(usevar="unequal") → (4.3607, 1.2965e-05)
    assert test.z_p_value == pytest.approx(1.2964793457086172e-05, rel=1e-6)
    assert test.probability_best > 0.999 and test.significant
    assert control.interval[0] < x.value < control.interval[1]


def test_peeking_at_the_sequential_p_value_keeps_false_positives_under_alpha():
    """An A/A test looked at 50 times: stopping at the first z-test p < 0.05 'finds' a difference
    far more often than 5 %; the mSPRT's always-valid p-value stays under 5 %."""
    rng = np.random.default_rng(1)
    runs, looks, per_look, rate = 400, 50, 200, 0.1
    naive = sequential = 0
    for _ in range(runs):
        a = rng.binomial(1, rate, (looks, per_look)).sum(axis=1).cumsum()
        b = rng.binomial(1, rate, (looks, per_look)).sum(axis=1).cumsum()
        n = per_look * np.arange(1, looks + 1)
        hit_naive = hit_sequential = False
        for k in range(looks):
            control, test = stats.Rate("control", int(n[k]), int(a[k])), stats.Rate("test", int(n[k]), int(b[k]))
            difference, variance = test.value - control.value, test.variance + control.variance
            hit_naive |= stats.z_test_p_value(difference=difference, variance=variance) < 0.05
            hit_sequential |= stats.msprt_p_value(difference=difference, variance=variance, tau=0.02) < 0.05
        naive += hit_naive
        sequential += hit_sequential
    assert naive / runs > 0.15
    assert sequential / runs <= 0.05


def test_the_sequential_test_finds_a_real_difference():
    p = stats.msprt_p_value(difference=0.03, variance=0.1 * 0.9 / 5000 + 0.13 * 0.87 / 5000, tau=0.02)
    assert p < 0.001
