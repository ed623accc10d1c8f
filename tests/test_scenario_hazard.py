"""The stepped cumulative hazard behind scenario simulation, against a day-by-day sum."""

import numpy as np
import pytest

from forecasting.scenarios import NEVER, _StepHazard


def _day_by_day(cum, replicates, parent_days, m, e):
    """Reference: build every simulation's daily hazard and sum it, one day at a time."""
    draws, n_days = cum.shape
    h = np.diff(cum, axis=1, prepend=0.0)[np.repeat(np.arange(draws), replicates)]
    H = np.zeros(len(h))
    times = np.full(len(h), NEVER)
    p_by_day = np.zeros((len(h), n_days))
    for d in range(n_days):
        mult = np.prod(np.where(d > parent_days, m, 1.0), axis=1)
        H = H + h[:, d] * mult
        times = np.where((times == NEVER) & (H >= e), d, times)
        p_by_day[:, d] = -np.expm1(-H)
    return times, p_by_day.reshape(draws, replicates, n_days).mean(axis=1)


@pytest.mark.parametrize("n_parents", [0, 1, 3])
def test_step_hazard_matches_day_by_day_sum(n_parents):
    rng = np.random.default_rng(n_parents)
    draws, replicates, n_days = 300, 4, 50
    daily = rng.exponential(0.02, (draws, n_days)) * (rng.random((draws, n_days)) < 0.7)
    daily[:, :5] = 0.0  # clocks that start late
    cum = np.cumsum(daily, axis=1)
    n = draws * replicates
    # parent days: before the grid, on it, and never
    parent_days = rng.choice(np.r_[-1, np.arange(n_days), NEVER], size=(n, n_parents))
    m = rng.lognormal(0.5, 1.0, (n, n_parents))
    e = rng.standard_exponential(n)
    hazard = _StepHazard(cum, replicates, parent_days if n_parents else None, m if n_parents else None)
    want_times, want_p = _day_by_day(cum, replicates, parent_days, m, e)
    got = hazard.first_passage(e)
    np.testing.assert_array_equal(got, want_times)
    assert 0.1 < (got < NEVER).mean() < 0.95  # both outcomes occur: the comparison is not vacuous
    np.testing.assert_allclose(hazard.at(np.arange(n_days)), want_p, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hazard.at([7, 49, 0]), want_p[:, [7, 49, 0]], rtol=1e-5, atol=1e-7)
