"""The PyMC model: sources' biases and noise, censored claims, and a marginalised trajectory.

Each claim j made by source s is a reading of the true log-level x on the day
it is about::

    y_j = x[day_j] + bias_s (+ projection_bias) (+ log_share_q) + e_j,   e_j ~ Normal(0, R_j)
    R_j = noise_s**2 (+ projection_noise**2 * lead_j / 30)

(``log_share_q`` for a report about a subset quantity q; a stage quantity's
report reads ``x`` ``lag`` days after the day it is about: :mod:`forecasting.quantities`.)

An ``approximately`` or ``projection`` claim observes ``y_j = log(value)``. A
bound or range observes only that ``y_j`` lies in an interval; its ``y_j`` is
sampled as a latent value constrained to that interval, which integrates to the
censored likelihood ``P(y_j in interval | x)``. Given all ``y_j`` the model is
linear-Gaussian in x, so x is integrated out with a Kalman filter
(:mod:`forecasting.kalman`) and drawn afterwards. The sampler therefore sees a
few smooth parameters, whatever the number of days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import kalman
from .priors import log_normal_from_range, noise_prior, resolve

KIND_CODE = {"approximately": 0, "at_least": 1, "up_to": 2, "between": 3, "projection": 4}
CENSORED = ("at_least", "up_to", "between")
NOISE_POOL_SD = 0.4  # log-sd of the case-wide noise multiplier shared by all sources
# a pooled source with at least this many reports has its bias sampled centred
CENTRE_MIN_REPORTS = 10


@dataclass
class Design:
    """A case turned into arrays: everything the model and the trajectory draws need."""

    kind: str
    dates: pd.DatetimeIndex
    source_names: list
    source_declared_bias: np.ndarray  # bool, per source
    source_bias_prior: np.ndarray  # (S, 2): mu, sd (only where declared)
    source_noise_prior: np.ndarray  # (S, 2): median, log-sd
    report_index: np.ndarray  # position of each active report in case.reports
    claim: np.ndarray  # KIND_CODE per report
    source: np.ndarray  # source index per report
    about_day: np.ndarray  # grid day each claim is about
    lead: np.ndarray  # days between the claim and what it is about (projections)
    y: np.ndarray  # log value (NaN for bounds and ranges)
    lower: np.ndarray  # log lower bound (-inf if none)
    upper: np.ndarray  # log upper bound (+inf if none)
    reading_days: np.ndarray  # sorted unique about_day
    reading_pos: np.ndarray  # index into reading_days per report
    priors: dict
    # related quantities (forecasting.quantities): a subset's report reads the primary plus log(share)
    share_names: list = field(default_factory=list)  # subset quantities, one log-share parameter each
    share_prior: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (Q, 2): mu, sd of log(share)
    report_share: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # share index per report, -1 none

    @property
    def n_reports(self) -> int:
        return len(self.claim)

    @property
    def censored(self) -> np.ndarray:
        return np.flatnonzero(np.isin(self.claim, [KIND_CODE[k] for k in CENSORED]))

    @property
    def observed(self) -> np.ndarray:
        return np.flatnonzero(~np.isin(self.claim, [KIND_CODE[k] for k in CENSORED]))

    @property
    def has_projections(self) -> bool:
        return bool(np.any(self.claim == KIND_CODE["projection"]))

    @property
    def source_centred(self) -> np.ndarray:
        """Pooled sources whose bias is sampled centred (bool per source; see ``build_model``)."""
        counts = np.bincount(self.source, minlength=len(self.source_names))
        centred = ~self.source_declared_bias & (counts >= CENTRE_MIN_REPORTS)
        return centred if centred.sum() >= 2 else np.zeros_like(centred)

    @property
    def has_shares(self) -> bool:
        return len(self.share_names) > 0


def noise_covariance(d: Design) -> np.ndarray:
    """Prior covariance of the sources' log noise: own spreads plus the shared multiplier."""
    return np.diag(d.source_noise_prior[:, 1] ** 2) + NOISE_POOL_SD**2


def noise_multiplier_posterior(d: Design, log_noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the case-wide log-noise multiplier given each draw's log noise (exact, conjugate).

    ``log_noise`` has shape (n_draws, n_sources).
    """
    spread2 = d.source_noise_prior[:, 1] ** 2
    precision = 1.0 / NOISE_POOL_SD**2 + np.sum(1.0 / spread2)
    resid = log_noise - np.log(d.source_noise_prior[:, 0])
    return (resid / spread2).sum(axis=-1) / precision, np.full(log_noise.shape[0], precision**-0.5)


def _noise_from_range(low, high):
    """(median, log-sd) of the LogNormal noise prior with this 90% range."""
    mu, sd = log_normal_from_range(low, high)
    return math.exp(mu), sd


def design(case) -> Design:
    """Build the arrays for a case's active reports, echoes left out (:mod:`forecasting.echoes`)."""
    from . import quantities
    from .echoes import independent

    all_reports = case.reports
    # independent quantities are cases of their own (quantities.independent_cases)
    index = np.array([i for i in independent(all_reports) if (case.as_of is None or all_reports[i].date <= case.as_of)
                      and quantities.modelled(case, all_reports[i])], np.int64)
    reports = [all_reports[i] for i in index]
    used = {r.source for r in reports}
    sources = [s for s in case.active_sources if s.name in used]
    names = [s.name for s in sources]
    src_pos = {n: i for i, n in enumerate(names)}
    bias_prior = np.zeros((len(sources), 2))
    declared = np.zeros(len(sources), bool)
    for i, s in enumerate(sources):
        if s.bias is not None:
            declared[i] = True
            bias_prior[i] = log_normal_from_range(*s.bias)
    # a declared noise range (e.g. a track record) replaces the grade's default
    noise = np.array([noise_prior(s.grade) if s.noise is None else _noise_from_range(*s.noise) for s in sources])

    claim = np.array([KIND_CODE[r.claim] for r in reports])
    shift, share_of = (np.array(v, np.int64) for v in zip(*[quantities.reading(case, r) for r in reports]))
    # a stage's report reads the primary `lag` days later
    about = np.array([(r.about - case.start).days for r in reports]) + shift
    subsets = quantities.subsets(case)
    lead = np.array([(r.about - r.date).days for r in reports], float)
    y = np.full(len(reports), np.nan)
    lower = np.full(len(reports), -np.inf)
    upper = np.full(len(reports), np.inf)
    for j, r in enumerate(reports):
        if r.claim in ("approximately", "projection"):
            y[j] = math.log(r.value)
        elif r.claim == "at_least":
            lower[j] = math.log(r.value)
        elif r.claim == "up_to":
            upper[j] = math.log(r.value)
        else:
            lower[j], upper[j] = math.log(r.low), math.log(r.high)
    reading_days, reading_pos = np.unique(about, return_inverse=True)
    return Design(
        kind=case.trajectory,
        dates=pd.date_range(case.start, case.horizon, freq="D"),
        source_names=names,
        source_declared_bias=declared,
        source_bias_prior=bias_prior,
        source_noise_prior=noise,
        report_index=index,
        claim=claim,
        source=np.array([src_pos[r.source] for r in reports]),
        about_day=about,
        lead=lead,
        y=y,
        lower=lower,
        upper=upper,
        reading_days=reading_days,
        reading_pos=reading_pos,
        # echoes, subsets and independent quantities must not move the claim-informed default priors
        priors=resolve(_prior_case(case, reports)),
        share_names=[q.name for q in subsets],
        share_prior=np.array([quantities.share_prior(q) for q in subsets]).reshape(-1, 2),
        report_share=share_of,
    )


def _prior_case(case, reports):
    """The case whose claims set the data-informed default priors: its modelled, primary-scale reports."""
    from .quantities import quantity_of

    scale = [r for r in reports if (q := quantity_of(case, r)) is None or q.relation == "stage"] or reports
    if len(scale) == len(case.active_reports):
        return case
    return case.with_(reports=tuple(scale), as_of=None, scenarios=(), outcomes=())


def latent_scale(d: Design) -> np.ndarray:
    """Per report, the scale kappa of a one-sided bound's latent transform: its source's prior median noise.

    A bound's reading is ``kappa * softplus(u / kappa)`` beyond it: linear in u from about one
    typical noise away, exponential closer in. With ``exp(u)``, as before, a bound far from its
    reading had a doubly exponential (stiff) tail in u, which set NUTS's step size: at 10,000
    reports 63 leapfrog steps a draw at target 0.9, 42 with softplus; on the built-in case 23.2
    and 16.4, with divergences as often (19 and 23 of 32 seeds had any at 0.9).
    """
    return d.source_noise_prior[d.source, 0] if d.n_reports else np.zeros(0)


def _latent_claims(d: Design):
    """Free latent values for bounds and ranges, with the Jacobian of their transforms."""
    import pymc as pm
    import pytensor.tensor as pt

    cens = d.censored
    u = pm.Flat("claim_latent_raw", shape=len(cens))
    lo, hi = d.lower[cens], d.upper[cens]
    both = np.isfinite(lo) & np.isfinite(hi)
    only_lo = np.isfinite(lo) & ~both
    # each branch is well-defined for every element; `where` picks the right one
    width = np.where(both, hi - lo, 1.0)
    safe_lo = np.where(np.isfinite(lo), lo, 0.0)
    safe_hi = np.where(np.isfinite(hi), hi, 0.0)
    # a one-sided bound's reading is kappa * softplus(u / kappa) beyond it: linear in u from about
    # kappa (its source's typical noise) away, so a bound far from its reading leaves u near-Gaussian
    kappa = latent_scale(d)[cens]
    beyond = kappa * pt.softplus(u / kappa)
    value = pt.where(both, safe_lo + width * pt.sigmoid(u), pt.where(only_lo, safe_lo + beyond, safe_hi - beyond))
    log_jac = pt.where(both, np.log(width) + pt.log(pt.sigmoid(u)) + pt.log(pt.sigmoid(-u)), -pt.softplus(-u / kappa))
    pm.Potential("claim_latent_jacobian", log_jac.sum())
    return value


DENSE_MAX_DAYS = 150  # above this many reading days the O(days) filter beats the O(days^3) factor


def build_model(d: Design, fixed: dict | None = None, method: str = "filter"):
    """Build the PyMC model for a design.

    Parameters
    ----------
    d : Design
    fixed : dict, optional
        Parameters held at known values instead of sampled (names as in the
        posterior: ``wander``, ``drift``, ``log_ceiling``, ``halfway_days``,
        ``bias_scale``, ``noise``, ``projection_bias``, ``projection_noise``).
        Used to check the model against exact answers.
    method : {"auto", "dense", "filter"}
        How the trajectory is integrated out: a dense Cholesky factor over
        reading days, or a Kalman filter (``auto`` picks by the number of days).
    """
    import pymc as pm
    import pytensor.tensor as pt

    fixed = dict(fixed or {})
    P = d.priors["params"]

    coords = {"source": d.source_names}
    if d.has_shares:
        coords["quantity"] = d.share_names

    def param(name, make):
        if name in fixed:
            return pm.Deterministic(name, pt.as_tensor_variable(np.asarray(fixed[name], float)),
                                    dims="source" if np.ndim(fixed[name]) else None)
        return make()

    with pm.Model(coords=coords) as model:
        trend = {"wander": param("wander", lambda: pm.LogNormal("wander", *P["wander"]))}
        if d.kind == "random_walk":
            trend["drift"] = param("drift", lambda: pm.Normal("drift", *P["drift"]))
        else:
            trend["log_ceiling"] = param("log_ceiling", lambda: pm.Normal("log_ceiling", *P["ceiling"]))
            trend["halfway_days"] = param("halfway_days", lambda: pm.LogNormal("halfway_days", *P["halfway_days"]))

        # Source biases: declared ones keep their own prior, the rest pool around
        # a common centre with an uncertain scale. Scale priors are LogNormal so
        # the density vanishes at zero (no funnel, no collapse onto one source).
        # Pooled sources with many reports are sampled centred (their bias is
        # pinned by data), the rest non-centred (pinned by the prior): the same
        # model either way, parameterised where each is well conditioned. The
        # centred ones are split into their mean and zero-sum deviations, since
        # data pin biases only relative to each other: their common level is the
        # prior's, and as one coordinate it no longer spans every source.
        bias_scale = param("bias_scale", lambda: pm.LogNormal(
            "bias_scale", math.log(P["source_bias"][1]), P["source_bias_scale_spread"]))
        centre = P["source_bias"][0]
        centred = d.source_centred
        raw, cen = np.flatnonzero(~centred), np.flatnonzero(centred)
        bias = pt.zeros(len(d.source_names))
        if len(raw):
            bias_z = pm.Normal("bias_z", 0.0, 1.0, shape=len(raw))
            own = d.source_bias_prior[raw, 0] + d.source_bias_prior[raw, 1] * bias_z
            bias = pt.set_subtensor(bias[raw], pt.where(d.source_declared_bias[raw], own, centre + bias_scale * bias_z))
        if len(cen):
            bias_mean = pm.Normal("bias_mean", centre, bias_scale / math.sqrt(len(cen)))
            bias_dev = pm.ZeroSumNormal("bias_dev", sigma=bias_scale, shape=len(cen))
            bias = pt.set_subtensor(bias[cen], bias_mean + bias_dev)
        bias = pm.Deterministic("bias", bias, dims="source")

        if "noise" in fixed:
            noise = param("noise", None)
        else:
            # log noise_s = log(grade median_s) + case-wide multiplier + own spread_s; the
            # multiplier (sd NOISE_POOL_SD) is integrated out, leaving one Gaussian over
            # sources with covariance diag(spread^2) + NOISE_POOL_SD^2 (no ridge between
            # the multiplier and every source when many sources are well measured).
            log_noise = pm.MvNormal("log_noise", np.log(d.source_noise_prior[:, 0]), noise_covariance(d),
                                    dims="source")
            noise = pm.Deterministic("noise", pt.exp(log_noise), dims="source")

        offset = bias[d.source]
        var = noise[d.source] ** 2
        if d.has_projections:
            is_proj = (d.claim == KIND_CODE["projection"]).astype(float)
            proj_bias = param("projection_bias", lambda: pm.Normal("projection_bias", *P["projection_bias"]))
            proj_noise = param("projection_noise", lambda: pm.LogNormal("projection_noise", *P["projection_noise"]))
            offset = offset + is_proj * proj_bias
            var = var + is_proj * proj_noise**2 * (d.lead / 30.0)
        if d.has_shares:
            # a subset quantity's report reads the primary's log level plus log(share)
            log_share = pm.Normal("log_share", d.share_prior[:, 0], d.share_prior[:, 1], dims="quantity")
            has = d.report_share >= 0
            offset = offset + pt.where(has, log_share[np.maximum(d.report_share, 0)], 0.0)

        y = pt.as_tensor_variable(np.nan_to_num(d.y))
        if len(d.censored):
            y = pt.set_subtensor(y[d.censored], _latent_claims(d))

        # Collapse all readings of the same day into one precision-weighted
        # reading (exact), so the filter runs over reading days, not reports.
        k = len(d.reading_days)
        w = 1.0 / var
        z = y - offset
        w_day = pt.inc_subtensor(pt.zeros(k)[d.reading_pos], w)
        day_mean = pt.inc_subtensor(pt.zeros(k)[d.reading_pos], w * z) / w_day
        resid = z - day_mean[d.reading_pos]
        within = (-0.5 * (kalman.LOG_2PI + pt.log(var)) - 0.5 * w * resid**2).sum() + (
            0.5 * (kalman.LOG_2PI - pt.log(w_day))
        ).sum()
        day_mean = pm.Deterministic("reading_mean", day_mean)
        day_var = pm.Deterministic("reading_var", 1.0 / w_day)

        m0, sd0 = P["level"]
        if method == "auto":
            method = "dense" if k <= DENSE_MAX_DAYS else "filter"
        if method == "dense":
            ll = kalman.loglik_dense_pytensor(d.kind, trend, d.reading_days, day_mean, day_var, m0, sd0**2)
        elif method == "filter":
            gaps = np.diff(np.concatenate([[0], d.reading_days])).astype(float)
            a, c, q = kalman.transition(d.kind, trend, gaps)
            a = pt.as_tensor_variable(a) * pt.ones(k)
            ll = kalman.loglik_pytensor(a, c * pt.ones(k), q * pt.ones(k), day_mean, day_var, m0, sd0**2)
        else:
            raise ValueError(f"unknown method {method!r}")
        pm.Potential("claims", within + ll)
    return model
