"""The marginalised trajectory against exact linear-Gaussian answers (no sampling)."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from forecasting import kalman

KINDS = {
    "random_walk": {"wander": 0.03, "drift": 0.01},
    "saturating": {"wander": 0.03, "log_ceiling": 9.5, "halfway_days": 20.0},
}


def _setup(kind, rng, days=60, k=12):
    params = {key: np.array([v]) for key, v in KINDS[kind].items()}
    obs_day = np.sort(rng.choice(days, k, replace=False))
    y = rng.normal(8.0, 0.5, (1, k))
    r = rng.uniform(0.01, 0.2, (1, k))
    return params, obs_day, y, r


def _dense(kind, params, days, m0, v0):
    t = np.arange(days, dtype=float)
    p = {k: v[0] for k, v in params.items()}
    a_t, c_t, cov = kalman.covariance(kind, p, t, v0, np)
    return a_t * m0 + c_t, cov


@pytest.mark.parametrize("kind", KINDS)
def test_smoother_matches_dense_gaussian_conditioning(kind):
    rng = np.random.default_rng(1)
    days, m0, v0 = 60, 7.5, 1.5
    params, obs_day, y, r = _setup(kind, rng, days)
    filt = kalman.filter_daily(kind, params, m0, v0, days, obs_day, y, r)
    m_s, p_s = kalman.smooth_daily(*filt)
    mean, cov = _dense(kind, params, days, m0, v0)
    H = np.eye(days)[obs_day]
    gain = cov @ H.T @ np.linalg.inv(H @ cov @ H.T + np.diag(r[0]))
    post_mean = mean + gain @ (y[0] - H @ mean)
    post_var = np.diag(cov - gain @ H @ cov)
    np.testing.assert_allclose(m_s[0], post_mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p_s[0], post_var, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_sampling_has_smoother_moments(kind):
    rng = np.random.default_rng(2)
    days, m0, v0, n = 40, 7.5, 1.0, 20000
    params, obs_day, y, r = _setup(kind, rng, days, k=6)
    params = {k: np.repeat(v, n) for k, v in params.items()}
    filt = kalman.filter_daily(kind, params, m0, v0, days, obs_day, np.repeat(y, n, 0), np.repeat(r, n, 0))
    m_s, p_s = kalman.smooth_daily(*filt)
    x = kalman.sample_daily(*filt, np.random.default_rng(3))
    # independent draws: the mean's standard error is sd/sqrt(n); the variance's is var*sqrt(2/(n-1))
    se_mean = np.sqrt(p_s[0] / n)
    assert np.all(np.abs(x.mean(0) - m_s[0]) < 4.5 * se_mean)
    se_var = p_s[0] * np.sqrt(2 / (n - 1))
    assert np.all(np.abs(x.var(0) - p_s[0]) < 4.5 * se_var)


@pytest.mark.parametrize("kind", KINDS)
def test_pytensor_filter_and_dense_loglik_equal_exact_marginal(kind):
    import pytensor
    import pytensor.tensor as pt

    rng = np.random.default_rng(4)
    days, m0, v0 = 50, 7.0, 2.0
    params, obs_day, y, r = _setup(kind, rng, days, k=9)
    mean, cov = _dense(kind, params, days, m0, v0)
    exact = multivariate_normal(mean[obs_day], cov[np.ix_(obs_day, obs_day)] + np.diag(r[0])).logpdf(y[0])

    p = {k: pt.as_tensor_variable(v[0]) for k, v in params.items()}
    gaps = np.diff(np.concatenate([[0], obs_day])).astype(float)
    a, c, q = kalman.transition(kind, p, gaps)
    ones = np.ones(len(obs_day))
    ll_filter = kalman.loglik_pytensor(a * ones, c * ones, q * ones, y[0], r[0], m0, v0)
    ll_dense = kalman.loglik_dense_pytensor(kind, p, obs_day, pt.as_tensor_variable(y[0]), pt.as_tensor_variable(r[0]), m0, v0)
    f = pytensor.function([], [ll_filter, ll_dense])
    got_filter, got_dense = f()
    assert got_filter == pytest.approx(exact, rel=1e-9)
    assert got_dense == pytest.approx(exact, rel=1e-9)
