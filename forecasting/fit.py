"""Sample a case's posterior and draw its trajectory: evidence -> model -> posterior."""

from __future__ import annotations

import os
import warnings

import numpy as np
import xarray as xr

from . import kalman
from .model import KIND_CODE, Design, build_model, design

SAMPLERS = ("nutpie", "nutpie-pytensor", "pymc")
TRAJECTORY_SEED_OFFSET = 7919  # keeps trajectory draws' stream apart from the sampler's


AUTO_TARGET_ACCEPT = (0.9, 0.99, 0.995)  # "auto": each only if the one before diverged
# "auto" for a design with fewer reports per source than this: its sources' noise is held mostly by
# the prior, and funnels towards small noise make a run at 0.9 diverge most of the time (16 of 24
# seeds on the built-in case, 24 of 24 on its 10-report casualty count; 3 and 21 of 24 at 0.95)
SPARSE_REPORTS_PER_SOURCE = 10
AUTO_TARGET_ACCEPT_SPARSE = (0.95, 0.99, 0.995)


def auto_targets(d: Design) -> tuple:
    """The target acceptances ``"auto"`` tries for a design, in order (each only if the one before diverged)."""
    sparse = d.n_reports < SPARSE_REPORTS_PER_SOURCE * max(len(d.source_names), 1)
    return AUTO_TARGET_ACCEPT_SPARSE if sparse else AUTO_TARGET_ACCEPT


def sample_posterior(d: Design, *, draws, tune, chains, seed, sampler, target_accept="auto", progress,
                     fixed=None):
    """Run the chosen NUTS implementation and return ArviZ InferenceData.

    ``nutpie`` samples the hand-compiled density of :mod:`forecasting.logdensity`
    (compiled once per machine); ``nutpie-pytensor`` and ``pymc`` sample the PyMC
    model itself, compiling its graph for each case. All three target the same
    posterior (checked in ``tests/test_logdensity.py`` and ``tests/test_fastpath.py``).
    Held-fixed parameters need the PyMC model, so ``nutpie`` then falls back to
    ``nutpie-pytensor``.

    ``target_accept="auto"`` samples at 0.9 (0.95 for a sparse design, fewer than 10
    reports per source: :func:`auto_targets`) and, only if any transition diverged,
    samples again at 0.99 (smaller steps, about twice the cost), and at 0.995 only
    if that run diverged too: large, well identified cases get the cheap setting,
    small cases with a funnel (a tiny ``wander``, a source's small noise) the safe one.
    The target used is in ``idata.attrs["target_accept"]``.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}")
    if target_accept == "auto":
        targets = auto_targets(d)
    elif isinstance(target_accept, (int, float)) and not isinstance(target_accept, bool) and 0 < target_accept < 1:
        targets = (float(target_accept),)
    else:
        raise ValueError(f"target_accept must be 'auto' or a number between 0 and 1, got {target_accept!r}")
    cores = min(chains, os.cpu_count() or 1)
    run = _sampler(d, sampler=sampler, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                   progress=progress, fixed=fixed)
    for i, target in enumerate(targets):
        idata = run(target)
        if i == len(targets) - 1 or not int(idata.sample_stats["diverging"].values.sum()):
            break
    idata.attrs["target_accept"] = target
    idata.attrs["target_accept_requested"] = str(target_accept)
    return idata


def _sampler(d: Design, *, sampler, draws, tune, chains, cores, seed, progress, fixed):
    """A function of target_accept that samples the case (compiling whatever is needed once)."""
    if sampler.startswith("nutpie"):
        try:
            import nutpie
        except ImportError:
            raise ImportError(f"sampler {sampler!r} needs the nutpie package: pip install nutpie") from None
        if sampler == "nutpie" and not fixed:
            from .logdensity import compile_nutpie

            compiled = compile_nutpie(d)
        else:
            compiled = nutpie.compile_pymc_model(build_model(d, fixed=fixed), backend="numba")
        return lambda target: nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                                            target_accept=target, progress_bar=progress, save_warmup=False)
    import pymc as pm

    model = build_model(d, fixed=fixed)

    def run(target):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            return pm.sample(draws=draws, tune=tune, chains=chains, cores=cores, random_seed=seed,
                             target_accept=target, progressbar=progress, model=model,
                             compute_convergence_checks=False)

    return run


def trajectory_params(d: Design, posterior) -> dict:
    """Per-draw transition parameters, flattened over (chain, draw)."""
    names = ["wander", "drift"] if d.kind == "random_walk" else ["wander", "log_ceiling", "halfway_days"]
    return {n: posterior[n].values.reshape(-1) for n in names}


def filtered(d: Design, posterior):
    """Daily Kalman filter per posterior draw: (m_f, p_f, m_p, p_p, a)."""
    params = trajectory_params(d, posterior)
    n = next(iter(params.values())).shape[0]
    y = posterior["reading_mean"].values.reshape(n, -1)
    r = posterior["reading_var"].values.reshape(n, -1)
    m0, sd0 = d.priors["params"]["level"]
    return kalman.filter_daily(d.kind, params, m0, sd0**2, len(d.dates), d.reading_days, y, r)


def draw_trajectories(d: Design, posterior, seed) -> xr.DataArray:
    """One daily log-level trajectory per posterior draw (forward-filter, backward-sample)."""
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    x = kalman.sample_daily(*filtered(d, posterior), np.random.default_rng(seed))
    return xr.DataArray(x.reshape(chains, draws, -1), dims=("chain", "draw", "date"),
                        coords={"chain": posterior.chain, "draw": posterior.draw, "date": d.dates})


def draw_noise_multiplier(d: Design, posterior, seed) -> xr.DataArray:
    """The case-wide log-noise multiplier, integrated out of the model, drawn back exactly per draw."""
    from .model import noise_multiplier_posterior

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    mean, sd = noise_multiplier_posterior(d, posterior["log_noise"].values.reshape(chains * draws, -1))
    x = mean + sd * np.random.default_rng(seed).standard_normal(mean.shape)
    return xr.DataArray(x.reshape(chains, draws), dims=("chain", "draw"),
                        coords={"chain": posterior.chain, "draw": posterior.draw})


def claim_parameters(d: Design, posterior):
    """Per-draw offset (log bias) and sd of each report's reading, shape (n_draws, n_reports)."""
    bias = posterior["bias"].values.reshape(-1, len(d.source_names))
    noise = posterior["noise"].values.reshape(-1, len(d.source_names))
    offset = bias[:, d.source]
    var = noise[:, d.source] ** 2
    if d.has_projections:
        is_proj = d.claim == KIND_CODE["projection"]
        offset = offset + is_proj * posterior["projection_bias"].values.reshape(-1, 1)
        var = var + is_proj * posterior["projection_noise"].values.reshape(-1, 1) ** 2 * d.lead / 30.0
    if d.has_shares:  # subset quantities read the primary plus log(share)
        log_share = posterior["log_share"].values.reshape(-1, len(d.share_names))
        has = d.report_share >= 0
        offset = offset + np.where(has, log_share[:, np.maximum(d.report_share, 0)], 0.0)
    return offset, np.sqrt(var)


def log_interval_prob(lo, hi):
    """log(Phi(hi) - Phi(lo)) for standardised bounds, stable in both tails."""
    from scipy.special import log_ndtr

    # reflect so the interval sits in the lower tail, where log_ndtr is accurate
    flip = lo > 0
    lo, hi = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    top, bottom = log_ndtr(hi), log_ndtr(lo)
    return top + np.log1p(-np.exp(np.minimum(bottom - top, 0.0)))


def pointwise_loglik(d: Design, posterior, log_level) -> xr.DataArray:
    """log p(claim_j | trajectory, source parameters) per draw and report (for LOO).

    Computed in blocks of draws, so the temporary arrays stay small however many
    reports there are (about 2 million values a block).
    """
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    out = np.empty((chains, draws, d.n_reports))
    block = max(1, 2_000_000 // max(d.n_reports, 1))
    for c in range(chains):
        for start in range(0, draws, block):
            sub = posterior.isel(chain=[c], draw=slice(start, start + block))
            x = log_level.isel(chain=[c], draw=slice(start, start + block)).values.reshape(-1, log_level.shape[-1])
            out[c, start:start + block] = _claim_loglik(d, sub, x[:, d.about_day])
    return xr.DataArray(out, dims=("chain", "draw", "report"),
                        coords={"chain": posterior.chain, "draw": posterior.draw, "report": d.report_index})


def _claim_loglik(d: Design, posterior, x) -> np.ndarray:
    offset, sd = claim_parameters(d, posterior)
    mu = x + offset
    ll = np.empty_like(mu)
    point = np.isfinite(d.y)
    ll[:, point] = -0.5 * (kalman.LOG_2PI + 2 * np.log(sd[:, point]) + ((d.y[point] - mu[:, point]) / sd[:, point]) ** 2)
    from scipy.special import log_ndtr

    # one-sided bounds need one tail each (two thirds of the censored claims in a typical case)
    up_to = ~point & ~np.isfinite(d.lower)
    at_least = ~point & np.isfinite(d.lower) & ~np.isfinite(d.upper)
    ranged = ~point & np.isfinite(d.lower) & np.isfinite(d.upper)
    ll[:, up_to] = log_ndtr((d.upper[up_to] - mu[:, up_to]) / sd[:, up_to])
    ll[:, at_least] = log_ndtr((mu[:, at_least] - d.lower[at_least]) / sd[:, at_least])
    lo = (d.lower[ranged] - mu[:, ranged]) / sd[:, ranged]
    hi = (d.upper[ranged] - mu[:, ranged]) / sd[:, ranged]
    ll[:, ranged] = log_interval_prob(lo, hi)
    return ll


def fit(case, *, draws=1000, tune=1000, chains=4, seed=0, sampler="nutpie", target_accept="auto",
        progress=False, fixed=None, related=True):
    """Fit a case: sample the posterior and draw the daily trajectory.

    Each independent quantity of the case (:mod:`forecasting.quantities`) is then
    fitted as a case of its own, with the same settings (:func:`fit_related`), into
    ``Forecast.related``.

    Parameters
    ----------
    case : Case
    draws, tune, chains : int
        NUTS settings (per chain).
    seed : int
        Makes the whole fit, trajectory draws included, reproducible.
    sampler : {"nutpie", "nutpie-pytensor", "pymc"}
        See :func:`sample_posterior`.
    target_accept : float or "auto"
        NUTS target acceptance; ``"auto"`` (default) tries 0.9 (0.95 with fewer
        than 10 reports per source), then 0.99 and 0.995 while anything diverged
        (see :func:`sample_posterior`).
    progress : bool
        Show the sampler's progress bar.
    fixed : dict, optional
        Hold some parameters at known values (see :func:`forecasting.model.build_model`).
    related : bool
        Also fit the independent quantities (default); ``False`` leaves
        ``Forecast.related`` empty, for callers that read only the primary.

    Returns
    -------
    Forecast
    """
    from .errors import CaseError
    from .evidence import Case, check_settings
    from .forecast import Forecast

    if not isinstance(case, Case):
        raise CaseError(f"got {type(case).__name__}", entry="fit", field="case",
                        expected="a Case (forecasting.load_case, builtin_case or Case(...))")
    check_settings(draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept)
    if sampler not in SAMPLERS:
        raise CaseError(f"got {sampler!r}", entry="fit", field="sampler", expected="one of " + ", ".join(SAMPLERS))
    d = design(case)
    idata = sample_posterior(d, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler,
                             target_accept=target_accept, progress=progress, fixed=fixed)
    idata.posterior["log_level"] = draw_trajectories(d, idata.posterior, seed + TRAJECTORY_SEED_OFFSET)
    if "log_noise" in idata.posterior:
        idata.posterior["noise_case"] = draw_noise_multiplier(d, idata.posterior, seed + TRAJECTORY_SEED_OFFSET + 1)
    idata.add_groups(log_likelihood={"claims": pointwise_loglik(d, idata.posterior, idata.posterior["log_level"])})
    idata.attrs["sampler"] = sampler
    idata.attrs["seed"] = seed
    forecast = Forecast(case, idata, design=d)
    if related:
        forecast.related = fit_related(case, draws=draws, tune=tune, chains=chains, seed=seed, sampler=sampler,
                                       target_accept=target_accept, progress=progress)
    return forecast


RELATED_SEED_OFFSET = 104_729  # keeps each independent quantity's fit apart from the primary's streams


def fit_related(case, *, seed=0, **settings) -> dict:
    """Fit each independent quantity of a case as a case of its own (:func:`forecasting.quantities.independent_cases`).

    The settings are the primary fit's; the ``k``-th quantity's seed is
    ``seed + RELATED_SEED_OFFSET * (k + 1)``. Held-fixed parameters belong to the
    primary's model and are not passed on.

    Returns
    -------
    dict of str to Forecast
        By quantity name, in declaration order; empty (and free) without independent quantities.
    """
    from .errors import CaseError
    from .quantities import independent_cases

    out = {}
    for k, (name, sub) in enumerate(independent_cases(case).items()):
        try:
            out[name] = fit(sub, seed=seed + RELATED_SEED_OFFSET * (k + 1), **settings)
        except CaseError as e:
            raise e.located(entry=f"quantity {name!r}") from None
    return out
