"""Proper scores for forecasts given as draws or probabilities.

A thin, validated layer over `scoringrules <https://github.com/frazane/scoringrules>`_
(CRPS and log score of ensembles, Brier and log score of events), plus interval
coverage, the probability integral transform (PIT), the Murphy decomposition of the
Brier score and skill scores. Every score here is negatively oriented: lower is
better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import CaseError

_BACKEND = "numpy"  # no JIT warm-up per process; these arrays are small


def _draws_and_obs(draws, obs):
    x = np.asarray(draws, dtype=float)
    y = np.asarray(obs, dtype=float)
    if x.ndim == 0:
        raise CaseError(f"draws has shape {x.shape}", field="draws", expected="an array whose last axis holds draws")
    if x.shape[:-1] != y.shape:
        raise CaseError(f"draws has shape {x.shape} but obs has shape {y.shape}", field="obs",
                        expected="obs shaped like draws without its last (draws) axis")
    if x.shape[-1] < 2:
        raise CaseError(f"{x.shape[-1]} draw(s)", field="draws", expected="at least 2 draws per forecast")
    return x, y


def crps(draws, obs) -> np.ndarray:
    """Continuous ranked probability score of an ensemble (draws on the last axis).

    Uses the "fair" estimator, unbiased for the CRPS of the distribution the draws
    come from (the plain estimator favours small ensembles).

    Parameters
    ----------
    draws : array_like, shape (..., m)
    obs : array_like, shape (...)

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> float(crps(np.random.default_rng(0).normal(size=4000), 0.0)) # doctest: +ELLIPSIS
    0.23...
    """
    import scoringrules as sr

    x, y = _draws_and_obs(draws, obs)
    return np.asarray(sr.crps_ensemble(y, x, estimator="fair", backend=_BACKEND))


def crps_point(point, obs) -> np.ndarray:
    """CRPS of a point forecast: the absolute error (a point mass's CRPS)."""
    return np.abs(np.asarray(point, float) - np.asarray(obs, float))


def log_score_draws(draws, obs) -> np.ndarray:
    """Negative log predictive density at ``obs`` from a Gaussian kernel density of the draws."""
    import scoringrules as sr

    x, y = _draws_and_obs(draws, obs)
    return np.asarray(sr.logs_ensemble(y, x, backend=_BACKEND))


def pit(draws, obs, *, rng=None) -> np.ndarray:
    """Probability integral transform: the share of draws below ``obs`` (ties split at random).

    Uniform on (0, 1) when ``obs`` is drawn from the forecast distribution.
    """
    x, y = _draws_and_obs(draws, obs)
    rng = np.random.default_rng(0) if rng is None else rng
    below = (x < y[..., None]).sum(axis=-1)
    ties = (x == y[..., None]).sum(axis=-1)
    m = x.shape[-1]
    return (below + rng.uniform(size=np.shape(below)) * (ties + 1)) / (m + 1)


def interval_coverage(draws, obs, level: float) -> np.ndarray:
    """Whether ``obs`` lies in the central ``level`` interval of the draws (bool)."""
    if not 0 < level < 1:
        raise CaseError(f"got {level!r}", field="level", expected="a probability between 0 and 1")
    x, y = _draws_and_obs(draws, obs)
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    return (lo <= y) & (y <= hi)


def _events(prob, outcome):
    p = np.asarray(prob, dtype=float)
    o = np.asarray(outcome)
    if p.shape != o.shape:
        raise CaseError(f"probabilities have shape {p.shape}, outcomes {o.shape}", field="outcome",
                        expected="one outcome per probability")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise CaseError("probabilities outside [0, 1]", field="probability", expected="values in [0, 1]")
    if not np.all(np.isin(o, (0, 1))):
        raise CaseError("outcomes other than 0/1", field="outcome", expected="0/1 or False/True")
    return p, o.astype(float)


def brier(prob, outcome) -> np.ndarray:
    """Brier score ``(p - o)**2`` of each probability against its 0/1 outcome."""
    import scoringrules as sr

    p, o = _events(prob, outcome)
    return np.asarray(sr.brier_score(o, p, backend=_BACKEND), dtype=float)


def log_score_binary(prob, outcome, *, eps: float = 0.0) -> np.ndarray:
    """Negative log probability of what happened, ``-log(p)`` or ``-log(1 - p)``.

    ``eps`` clips probabilities to ``[eps, 1 - eps]``: a Monte Carlo probability of
    exactly 0 is a resolution limit, not a certainty (use half its resolution).
    """
    p, o = _events(prob, outcome)
    p = np.clip(p, eps, 1 - eps)
    with np.errstate(divide="ignore"):
        return -np.log(np.where(o == 1, p, 1 - p))


def brier_decomposition(prob, outcome, *, bins: int | None = None) -> dict:
    """Murphy decomposition of the mean Brier score.

    ``BS = REL - RES + UNC + WBV - WBC`` exactly, where REL (reliability, lower is
    better), RES (resolution, higher is better) and UNC (uncertainty of the outcomes)
    are computed over groups of forecasts, and WBV/WBC (within-bin variance and
    covariance, Stephenson et al. 2008) are zero when each group holds one distinct
    probability (``bins=None``, the classical decomposition).

    Parameters
    ----------
    prob, outcome : array_like
    bins : int, optional
        Group probabilities into this many equal-width bins instead of by value.

    Returns
    -------
    dict
        ``brier, reliability, resolution, uncertainty, within_variance, within_covariance, n``.
    """
    p, o = _events(prob, outcome)
    p, o = p.ravel(), o.ravel()
    n = len(p)
    if n == 0:
        raise CaseError("no forecasts", field="probability", expected="at least one forecast")
    if bins is None:
        _, group = np.unique(p, return_inverse=True)
    else:
        group = np.minimum((p * bins).astype(int), bins - 1)
    df = pd.DataFrame({"p": p, "o": o, "g": group})
    g = df.groupby("g")
    nk, pk, ok = g.size(), g["p"].mean(), g["o"].mean()
    obar = o.mean()
    dp = df["p"] - df["g"].map(pk)
    do = df["o"] - df["g"].map(ok)
    return {
        "brier": float(np.mean((p - o) ** 2)),
        "reliability": float((nk * (pk - ok) ** 2).sum() / n),
        "resolution": float((nk * (ok - obar) ** 2).sum() / n),
        "uncertainty": float(obar * (1 - obar)),
        "within_variance": float((dp**2).sum() / n),
        "within_covariance": float(2 * (dp * do).sum() / n),
        "n": n,
    }


def reliability_table(prob, outcome, *, bins: int = 5) -> pd.DataFrame:
    """Forecasts grouped into probability bins: ``bin_low,bin_high,n,mean_probability,observed_frequency``.

    ``observed_frequency`` comes with a 90% Wilson interval (``lower``, ``upper``)
    so a reliability diagram shows how little a handful of events can say.
    """
    from scipy.stats import norm

    p, o = _events(prob, outcome)
    p, o = p.ravel(), o.ravel()
    edges = np.linspace(0, 1, bins + 1)
    k = np.minimum((p * bins).astype(int), bins - 1)
    z = norm.ppf(0.95)
    rows = []
    for b in range(bins):
        m = k == b
        n = int(m.sum())
        if n == 0:
            continue
        f = o[m].mean()
        centre = (f + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(f * (1 - f) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
        rows.append({"bin_low": edges[b], "bin_high": edges[b + 1], "n": n, "mean_probability": p[m].mean(),
                     "observed_frequency": f,
                     # the Wilson interval holds f exactly; min/max only absorb rounding at f = 0 or 1
                     "lower": min(max(centre - half, 0.0), f), "upper": max(min(centre + half, 1.0), f)})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "n", "mean_probability", "observed_frequency",
                                       "lower", "upper"])


def skill(score, reference, perfect: float = 0.0) -> float:
    """Skill score ``(reference - score) / (reference - perfect)`` of two mean scores.

    1 is perfect, 0 no better than the reference, negative worse. For scores without
    a finite perfect value (a density's log score) compare differences instead.
    """
    score, reference = float(score), float(reference)
    if reference == perfect:
        return float("nan")
    return (reference - score) / (reference - perfect)
