"""Exact posteriors to check the sampler against: Gaussian conditioning and 1-D quadrature."""

import numpy as np
from scipy.special import log_ndtr

from forecasting import kalman


def prior_moments(d, params):
    """Prior mean and covariance of the daily log-level."""
    t = np.arange(len(d.dates), dtype=float)
    m0, sd0 = d.priors["params"]["level"]
    a_t, c_t, cov = kalman.covariance(d.kind, params, t, sd0**2, np)
    return a_t * m0 + c_t, cov


def gaussian_posterior(d, fixed):
    """Exact posterior mean and sd of the daily log-level when every claim is a point
    claim and every parameter but the (Gaussian) source biases is fixed."""
    assert len(d.censored) == 0
    T, S = len(d.dates), len(d.source_names)
    mx, K = prior_moments(d, fixed)
    centre, _ = d.priors["params"]["source_bias"]
    mean = np.concatenate([mx, np.full(S, centre)])
    cov = np.zeros((T + S, T + S))
    cov[:T, :T] = K
    cov[T:, T:] = np.eye(S) * fixed["bias_scale"] ** 2
    n = d.n_reports
    H = np.zeros((n, T + S))
    H[np.arange(n), d.about_day] = 1.0
    H[np.arange(n), T + d.source] = 1.0
    is_proj = d.claim == 4
    y = d.y - is_proj * fixed.get("projection_bias", 0.0)
    R = np.asarray(fixed["noise"])[d.source] ** 2 + is_proj * fixed.get("projection_noise", 0.0) ** 2 * d.lead / 30
    S_ = H @ cov @ H.T + np.diag(R)
    G = cov @ H.T @ np.linalg.inv(S_)
    post_mean = mean + G @ (y - H @ mean)
    post_cov = cov - G @ H @ cov
    return post_mean[:T], np.sqrt(np.diag(post_cov)[:T])


def censored_posterior(d, fixed, day, lower, upper, grid=20001):
    """Exact posterior mean and sd of the log-level on ``day`` given one censored claim
    (log bounds ``lower``/``upper``) from a pooled source, by quadrature."""
    mx, K = prior_moments(d, fixed)
    centre, _ = d.priors["params"]["source_bias"]
    s = np.sqrt(np.asarray(fixed["noise"])[0] ** 2 + fixed["bias_scale"] ** 2)
    m, v = mx[day], K[day, day]
    x = np.linspace(m - 12 * np.sqrt(v), m + 12 * np.sqrt(v), grid)
    hi = (upper - x - centre) / s
    lo = (lower - x - centre) / s
    with np.errstate(divide="ignore"):
        like = np.exp(log_ndtr(hi)) - np.exp(log_ndtr(lo))
    w = np.exp(-0.5 * (x - m) ** 2 / v) * like
    w /= w.sum()
    mean = (w * x).sum()
    return mean, np.sqrt((w * (x - mean) ** 2).sum())
