"""Scalar linear-Gaussian state space for the latent log-level.

The log-level moves as ``x[t+dt] = a * x[t] + c + w``, ``w ~ Normal(0, q)``,
where (a, c, q) depend on the trajectory prior and on the gap ``dt`` in days.
Point claims (and censored claims once their latent value is sampled) are
Gaussian readings of ``x``, so the trajectory can be integrated out exactly:
the model samples only a handful of parameters and the trajectory is drawn
afterwards, per posterior draw, by forward-filtering backward-sampling.

The transition functions use only arithmetic and ``xp.log``/``xp.exp`` so they
serve both PyTensor (inside the model) and NumPy (when drawing trajectories).
"""

from __future__ import annotations

import math

import numpy as np

LOG_2PI = math.log(2 * math.pi)


def transition(kind: str, params: dict, dt):
    """Return (a, c, q) for a step of ``dt`` days.

    ``random_walk``: ``x`` drifts by ``drift`` a day with daily sd ``wander``.
    ``saturating``: ``x`` relaxes towards ``log_ceiling``, closing half the gap in
    ``halfway_days``, with innovations of daily sd ``wander`` (a discretised
    Ornstein-Uhlenbeck process on the log scale, i.e. Gompertz growth).
    """
    wander2 = params["wander"] ** 2
    if kind == "random_walk":
        return 1.0 + 0.0 * dt, params["drift"] * dt, wander2 * dt
    if kind == "saturating":
        phi = 2.0 ** (-1.0 / params["halfway_days"])
        a = phi**dt
        c = (1.0 - a) * params["log_ceiling"]
        q = wander2 * (1.0 - a * a) / (1.0 - phi * phi)
        return a, c, q
    raise ValueError(f"unknown trajectory kind {kind!r}")


def loglik_pytensor(a, c, q, y, r, m0, v0):
    """Marginal log-likelihood of readings ``y`` (variance ``r``) under the state space.

    ``a, c, q, y, r`` are vectors over reading days, each step moving the state
    from the previous reading day (the first from the start day, whose state is
    ``Normal(m0, v0)``).
    """
    import pytensor
    import pytensor.tensor as pt

    def step(a_t, c_t, q_t, y_t, r_t, m, p):
        m_pred = a_t * m + c_t
        p_pred = a_t * a_t * p + q_t
        s = p_pred + r_t
        gain = p_pred / s
        err = y_t - m_pred
        ll = -0.5 * (LOG_2PI + pt.log(s) + err * err / s)
        return m_pred + gain * err, p_pred * r_t / s, ll

    _, _, ll = pytensor.scan(
        step,
        sequences=[pt.as_tensor_variable(v).astype("float64") for v in (a, c, q, y, r)],
        outputs_info=[pt.cast(m0, "float64"), pt.cast(v0, "float64"), None],
        strict=True,
        return_updates=False,
    )
    return ll.sum()


def filter_daily(kind, params, m0, v0, days, obs_day, y, r):
    """Kalman filter on the daily grid, vectorised over posterior draws.

    Parameters
    ----------
    params : dict of arrays, shape (n,)
        Transition parameters per draw.
    m0, v0 : float
        Prior mean and variance of the log-level on day 0.
    days : int
        Grid length.
    obs_day : int array, shape (k,)
        Day index of each (aggregated) reading, strictly increasing.
    y, r : arrays, shape (n, k)
        Readings and their variances per draw.

    Returns
    -------
    m_f, p_f, m_p, p_p : arrays, shape (n, days)
        Filtered and one-step predicted means and variances.
    a : array, shape (n,)
        The daily transition coefficient (needed by the smoother).
    """
    n = y.shape[0]
    a, c, q = (np.ascontiguousarray(np.broadcast_to(np.asarray(v, float), (n,)))
               for v in transition(kind, params, 1.0))
    reading = np.full(days, -1)
    reading[obs_day] = np.arange(len(obs_day))
    y, r = np.ascontiguousarray(y, float), np.ascontiguousarray(r, float)
    out = tuple(np.empty((n, days)) for _ in range(4))
    from .kalman_compiled import filter_rows  # imports numba: only when trajectories are drawn

    filter_rows(a, c, q, float(m0), float(v0), reading, y, r, *out)
    return (*out, a)


def smooth_daily(m_f, p_f, m_p, p_p, a):
    """Rauch-Tung-Striebel smoother: exact posterior mean and variance per day."""
    m_s, p_s = m_f.copy(), p_f.copy()
    for t in range(m_f.shape[1] - 2, -1, -1):
        j = p_f[:, t] * a / p_p[:, t + 1]
        m_s[:, t] = m_f[:, t] + j * (m_s[:, t + 1] - m_p[:, t + 1])
        p_s[:, t] = p_f[:, t] + j * j * (p_s[:, t + 1] - p_p[:, t + 1])
    return m_s, p_s


def sample_daily(m_f, p_f, m_p, p_p, a, rng):
    """Backward sampling: one trajectory per draw from p(x | readings, parameters)."""
    n, days = m_f.shape
    x = np.empty((n, days))
    z = rng.standard_normal((n, days))
    from .kalman_compiled import sample_rows

    sample_rows(m_f, p_f, m_p, p_p, np.ascontiguousarray(np.broadcast_to(a, (n,)), float), z, x)
    return x


def covariance(kind: str, params: dict, t, v0, xp):
    """Prior mean shift and covariance of the log-level at days ``t`` (dense form).

    Returns ``(a_t, c_t, K)`` with ``E[x_t] = a_t * m0 + c_t`` and ``K`` the
    covariance; exact for the same state space as :func:`transition`.
    """
    ti, tj = t[:, None], t[None, :]
    wander2 = params["wander"] ** 2
    if kind == "random_walk":
        a_t = 1.0 + 0.0 * t
        return a_t, params["drift"] * t, v0 + wander2 * xp.minimum(ti, tj)
    if kind == "saturating":
        phi = 2.0 ** (-1.0 / params["halfway_days"])
        a_t = phi**t
        both = phi ** (ti + tj)
        cov = both * v0 + wander2 / (1.0 - phi * phi) * (phi ** xp.abs(ti - tj) - both)
        return a_t, (1.0 - a_t) * params["log_ceiling"], cov
    raise ValueError(f"unknown trajectory kind {kind!r}")


def loglik_dense_pytensor(kind, params, t, y, r, m0, v0):
    """Same marginal log-likelihood as :func:`loglik_pytensor`, by a Cholesky factor.

    Faster to compile and to differentiate when there are few reading days.
    """
    import pytensor.tensor as pt
    from pytensor.tensor.slinalg import cholesky, solve_triangular

    a_t, c_t, cov = covariance(kind, params, np.asarray(t, float), v0, pt)
    chol = cholesky(cov + pt.diag(r))
    alpha = solve_triangular(chol, y - (a_t * m0 + c_t), lower=True)
    return -0.5 * (len(t) * LOG_2PI + alpha @ alpha) - pt.log(pt.diag(chol)).sum()
