"""Simulation-based calibration (small run here; bigger ones are slow) and the robustness suite."""

import numpy as np
import pytest
from scipy.stats import binomtest

from forecasting.calibration import (PARAMETERS, PARAMETERS_SATURATING, SimSettings, draw_prior, rank_test,
                                     robustness, sbc)

ALPHA = 0.01  # family-wise false-alarm rate of each check below (Bonferroni over parameters)


def test_rank_test_false_alarm_rate_matches_its_null():
    """Check the checker: on uniform ranks, p < 0.05 in 5% of runs (binomial tolerance)."""
    rng = np.random.default_rng(0)
    runs = 2000
    p = np.array([rank_test(rng.integers(0, 100, size=30))[1] for _ in range(runs)])
    hits = int((p < 0.05).sum())
    # the binomial se of the rate is 0.49%: 3.5-6.5% is +-3 se, with room for the chi-square
    # approximation at 6 expected ranks per bin
    assert 0.035 < hits / runs < 0.065, hits / runs
    assert rank_test(np.zeros(30, int))[1] < 1e-6  # all ranks at the bottom: a clear failure


def test_prior_draws_have_prior_moments():
    rng = np.random.default_rng(1)
    th = [draw_prior(rng) for _ in range(4000)]
    drift = np.array([t["drift"] for t in th])
    # drift ~ Normal(0, log(2)/1.645/30) per day: mean within 4 se of 0
    assert abs(drift.mean()) < 4 * drift.std() / np.sqrt(len(drift))
    assert np.std(drift) == pytest.approx(np.log(2) / 1.6448536 / 30, rel=0.05)


@pytest.fixture(scope="module")
def small_sbc():
    return sbc(30, seed=1, settings=SimSettings(draws=300, tune=300))


def test_sbc_ranks_uniform_and_coverage(small_sbc):
    s = small_sbc.summary(alpha=ALPHA)
    assert set(s["parameter"]) == set(PARAMETERS)
    assert (s["n"] >= 25).all()
    # each parameter's chi-square p-value against uniform ranks exceeds ALPHA / 6, so a
    # correct model and sampler fail this with probability at most ALPHA
    assert s["uniform"].all(), s
    m = len(s)
    for row in s.itertuples():
        hits = round(row.coverage90 * row.n)
        assert binomtest(hits, row.n, 0.9).pvalue > ALPHA / m, row


@pytest.mark.slow
def test_sbc_saturating_trajectory():
    s = sbc(40, seed=3, settings=SimSettings(draws=300, tune=300, kind="saturating")).summary(alpha=ALPHA)
    assert set(s["parameter"]) == set(PARAMETERS_SATURATING)
    assert s["uniform"].all(), s
    for row in s.itertuples():
        assert binomtest(round(row.coverage90 * row.n), row.n, 0.9).pvalue > ALPHA / len(s), row


@pytest.mark.slow
def test_sbc_bigger_run():
    s = sbc(100, seed=7, settings=SimSettings(draws=300, tune=300)).summary(alpha=ALPHA)
    assert s["uniform"].all(), s
    for row in s.itertuples():
        assert binomtest(round(row.coverage50 * row.n), row.n, 0.5).pvalue > ALPHA / (2 * len(s)), row
        assert binomtest(round(row.coverage90 * row.n), row.n, 0.9).pvalue > ALPHA / (2 * len(s)), row


@pytest.mark.slow
def test_robustness_suite_runs_and_control_is_calibrated():
    r = robustness(8, seed=3, settings=SimSettings(draws=300, tune=300)).set_index("scenario")
    assert list(r.index) == ["control", "heavy_tails", "shock", "logistic"]
    assert np.isfinite(r[["coverage50", "coverage90", "crps", "crps_last"]].to_numpy()).all()
    c = r.loc["control"]
    # daily coverage averaged within a fit, then over 8 fits: a t test on 7 degrees of
    # freedom at the 0.1% level (t = 5.41) against the nominal 90%
    assert abs(c["coverage90"] - 0.9) < 5.41 * c["se90"], r
