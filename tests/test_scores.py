"""Proper scores against exact answers, with tolerances from Monte Carlo error."""

import math

import numpy as np
import pytest
from scipy.stats import chi2, kstest, norm

from forecasting import CaseError
from forecasting import scores


def crps_normal_exact(y, mu=0.0, sigma=1.0):
    """Closed form (Gneiting and Raftery 2007), written out independently of scoringrules."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))


@pytest.mark.parametrize("y", [0.0, 0.7, -2.5])
def test_crps_of_normal_draws_matches_closed_form(y):
    rng = np.random.default_rng(1)
    reps, m = 400, 500
    est = scores.crps(rng.normal(size=(reps, m)), np.full(reps, y))
    # the fair estimator is unbiased: the mean of independent estimates is within
    # 4 standard errors of the truth (false alarm ~6e-5 per case)
    se = est.std(ddof=1) / math.sqrt(reps)
    assert abs(est.mean() - crps_normal_exact(y)) < 4 * se


def test_crps_point_is_absolute_error_and_limit_of_narrow_ensembles():
    assert scores.crps_point(3.0, 1.0) == 2.0
    narrow = np.full((1, 10), 3.0)
    assert scores.crps(narrow, np.array([1.0]))[0] == pytest.approx(2.0)


def test_pit_is_uniform_when_obs_come_from_the_forecast():
    rng = np.random.default_rng(2)
    u = scores.pit(rng.normal(size=(3000, 200)), rng.normal(size=3000), rng=rng)
    # KS test at 0.1%: fails by chance once in a thousand runs
    assert kstest(u, "uniform").pvalue > 1e-3
    assert u.min() > 0 and u.max() < 1


def test_interval_coverage_matches_order_statistics():
    rng = np.random.default_rng(3)
    n, m = 4000, 1000
    hit = scores.interval_coverage(rng.normal(size=(n, m)), rng.normal(size=n), 0.9)
    # np.quantile interpolates between order statistics at (m-1)q (0-based); the
    # interval [X(k1), X(k2)] covers a new draw with probability (k2-k1)/(m+1)
    expected = ((m - 1) * 0.95 - (m - 1) * 0.05) / (m + 1)
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(hit.mean() - expected) < 4 * se


def test_log_score_of_draws_near_exact_density():
    rng = np.random.default_rng(4)
    ls = scores.log_score_draws(rng.normal(size=(50, 5000)), np.zeros(50))
    # kernel smoothing widens N(0,1) to N(0, 1+h^2), h ~ 1.06 m^-1/5 = 0.19: the log
    # density at 0 drops by 0.5*log(1+h^2) ~ 0.018; allow that plus sampling noise
    assert abs(ls.mean() - (-norm.logpdf(0.0))) < 0.03


def test_brier_and_log_score_exact_values():
    assert scores.brier([0.8, 0.3], [1, 0]).tolist() == pytest.approx([0.04, 0.09])
    assert scores.log_score_binary([0.8, 0.3], [1, 0]).tolist() == pytest.approx([-math.log(0.8), -math.log(0.7)])
    assert scores.log_score_binary([0.0], [1], eps=1e-3)[0] == pytest.approx(-math.log(1e-3))
    assert np.isinf(scores.log_score_binary([0.0], [1])[0])


@pytest.mark.parametrize("bins", [None, 5, 10])
def test_murphy_decomposition_identity(bins):
    rng = np.random.default_rng(5)
    p = np.round(rng.uniform(size=500), 1 if bins is None else 6)
    o = rng.uniform(size=500) < p
    d = scores.brier_decomposition(p, o, bins=bins)
    assert d["brier"] == pytest.approx(scores.brier(p, o).mean(), abs=1e-14)
    total = d["reliability"] - d["resolution"] + d["uncertainty"] + d["within_variance"] - d["within_covariance"]
    assert total == pytest.approx(d["brier"], abs=1e-12)
    if bins is None:
        assert d["within_variance"] == 0 and d["within_covariance"] == 0


def test_reliability_of_calibrated_forecasts_is_chance_level():
    rng = np.random.default_rng(6)
    n, k = 20000, 10
    p = rng.uniform(size=n)
    o = rng.uniform(size=n) < p
    d = scores.brier_decomposition(p, o, bins=k)
    # calibrated: each bin's observed frequency has mean p_bar and variance ~ p(1-p)/n_k,
    # so n * REL / mean(p(1-p)) is ~ chi-square(k); threshold at its 99.9% quantile
    stat = n * d["reliability"] / np.mean(p * (1 - p))
    assert stat < chi2.ppf(0.999, k)


def test_reliability_table_intervals_contain_frequencies():
    t = scores.reliability_table([0.1, 0.15, 0.9, 0.95, 0.5], [0, 1, 1, 1, 0], bins=5)
    assert (t["lower"] <= t["observed_frequency"]).all() and (t["observed_frequency"] <= t["upper"]).all()
    assert t["n"].sum() == 5


def test_skill():
    assert scores.skill(0.1, 0.2) == pytest.approx(0.5)
    assert scores.skill(0.3, 0.2) == pytest.approx(-0.5)
    assert math.isnan(scores.skill(0.1, 0.0))


def test_bad_input_is_a_case_error():
    with pytest.raises(CaseError, match="obs"):
        scores.crps(np.zeros((3, 10)), np.zeros(4))
    with pytest.raises(CaseError, match="probabilit"):
        scores.brier([1.2], [1])
    with pytest.raises(CaseError, match="outcome"):
        scores.brier([0.2], [2])
    with pytest.raises(CaseError, match="level"):
        scores.interval_coverage(np.zeros((2, 5)), np.zeros(2), 90)
