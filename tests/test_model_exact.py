"""The sampled model against exact answers, with tolerances from Monte Carlo error.

Holding the hyperparameters fixed leaves a posterior we can compute exactly:
by Gaussian conditioning when every claim is a point, by quadrature for one
censored claim. The sampler must agree within 4.5 Monte Carlo standard errors
(a false alarm about once in 150,000 checks).
"""

import datetime as dt
import math

import arviz as az
import numpy as np
import pytest

from forecasting import Case, Priors, Report, Source, fit
from forecasting.model import design

from .exact import censored_posterior, gaussian_posterior

START = dt.date(2024, 10, 1)
Z = 4.5
SETTINGS = dict(draws=1000, tune=600, chains=2, seed=11, sampler="pymc", target_accept=0.9)


def day(n):
    return START + dt.timedelta(days=n)


def _case(reports, kind="random_walk", sources=("A", "B")):
    return Case("exact", "troops", START, day(40), tuple(reports), sources=tuple(Source(s) for s in sources),
                trajectory=kind, priors=Priors(level=(500, 20000)))


def _fixed(case, **extra):
    fixed = {"wander": 0.03, "bias_scale": 0.15, "noise": np.full(len(case.active_sources), 0.2)}
    fixed.update({"drift": 0.01} if case.trajectory == "random_walk" else {"log_ceiling": math.log(9000), "halfway_days": 15.0})
    fixed.update(extra)
    return fixed


def _check_against(forecast, exact_mean, exact_sd, days):
    x = forecast.idata.posterior["log_level"]
    mean = x.mean(("chain", "draw")).values
    sd = x.std(("chain", "draw")).values
    mcse_mean = az.mcse(x.to_dataset(name="x"), method="mean")["x"].values
    # MCSE of the sd by the delta method: sd = sqrt(E[(x - mean)^2])
    sq = (x - x.mean(("chain", "draw"))) ** 2
    ess_sq = az.ess(sq.to_dataset(name="x"), method="mean")["x"].values
    mcse_sd = np.sqrt(sq.var(("chain", "draw")).values / ess_sq) / (2 * sd)
    for t in days:
        assert abs(mean[t] - exact_mean[t]) < Z * mcse_mean[t], (t, mean[t], exact_mean[t], mcse_mean[t])
        assert abs(sd[t] - exact_sd[t]) < Z * mcse_sd[t], (t, sd[t], exact_sd[t], mcse_sd[t])


@pytest.mark.parametrize("kind", ["random_walk", "saturating"])
def test_gaussian_case_matches_exact_smoother(kind):
    reports = [
        Report(day(3), "A", "approximately", 2000),
        Report(day(10), "B", "approximately", 3500),
        Report(day(10), "A", "approximately", 3000),
        Report(day(25), "B", "approximately", 6000),
        Report(day(12), "A", "projection", 9000, target=day(35)),
    ]
    case = _case(reports, kind)
    fixed = _fixed(case, projection_bias=0.1, projection_noise=0.3)
    forecast = fit(case, fixed=fixed, **SETTINGS)
    exact_mean, exact_sd = gaussian_posterior(design(case), fixed)
    _check_against(forecast, exact_mean, exact_sd, days=[0, 3, 10, 18, 25, 35, 40])


@pytest.mark.parametrize("claim,value", [("up_to", 3000.0), ("at_least", 3000.0)])
def test_censored_claim_matches_quadrature(claim, value):
    case = _case([Report(day(10), "A", claim, value)], sources=("A",))
    fixed = _fixed(case)
    forecast = fit(case, fixed=fixed, **SETTINGS)
    lower = math.log(value) if claim == "at_least" else -np.inf
    upper = math.log(value) if claim == "up_to" else np.inf
    mean, sd = censored_posterior(design(case), fixed, 10, lower, upper)
    _check_against(forecast, {10: mean}, {10: sd}, days=[10])


def test_range_claim_matches_quadrature():
    case = _case([Report(day(20), "A", "between", low=2000, high=4000)], sources=("A",))
    fixed = _fixed(case)
    forecast = fit(case, fixed=fixed, **SETTINGS)
    mean, sd = censored_posterior(design(case), fixed, 20, math.log(2000), math.log(4000))
    _check_against(forecast, {20: mean}, {20: sd}, days=[20])


def test_up_to_is_not_a_point_at_its_bound():
    """'Up to 3,000' leaves the level free below 3,000; 'about 3,000' pins it near 3,000."""
    bound = _case([Report(day(10), "A", "up_to", 3000)], sources=("A",))
    point = _case([Report(day(10), "A", "approximately", 3000)], sources=("A",))
    fb = fit(bound, fixed=_fixed(bound), **SETTINGS)
    fp = fit(point, fixed=_fixed(point), **SETTINGS)
    lb, lp = fb.level_on(day(10)), fp.level_on(day(10))
    assert np.median(lb) < 0.6 * 3000  # the bound's posterior sits well below it ...
    assert np.quantile(lb, 0.05) < 0.5 * np.quantile(lp, 0.05)  # ... with a much longer lower tail
    assert 0.8 * 3000 < np.median(lp) < 1.25 * 3000


def test_lone_at_least_leaves_upper_tail_open():
    case = _case([Report(day(10), "A", "at_least", 3000)], sources=("A",))
    forecast = fit(case, fixed=_fixed(case), **SETTINGS)
    level = forecast.level_on(day(10))
    # the prior's 95% quantile for the level is 20,000: the bound must not cut the upper tail
    assert np.quantile(level, 0.95) > 15000
    assert np.quantile(level, 0.05) > 0.6 * 3000


def test_projection_moves_target_date_more_than_report_date():
    base = [Report(day(5), "A", "approximately", 2000), Report(day(8), "B", "approximately", 2500)]
    proj = Report(day(8), "A", "projection", 10000, target=day(35))
    without = _case(base)
    with_ = _case(base + [proj])
    fixed = _fixed(with_, projection_bias=0.0, projection_noise=0.3)
    f0 = fit(without, fixed={k: v for k, v in fixed.items() if not k.startswith("projection")}, **SETTINGS)
    f1 = fit(with_, fixed=fixed, **SETTINGS)
    shift = lambda t: np.log(np.median(f1.level_on(day(t))) / np.median(f0.level_on(day(t))))
    assert shift(35) > 0.3  # the claim pulls its target date up a lot ...
    assert shift(8) < 0.5 * shift(35)  # ... and the day it was made much less
    assert shift(35) > shift(20) > shift(8)
