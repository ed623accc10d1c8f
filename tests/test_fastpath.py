"""The fast path (compiled density, nutpie) and the plain one (PyMC model, ``pm.sample``) agree.

Both sample the same posterior; their summaries may differ only by Monte Carlo
error. Each check allows 4.5 combined Monte Carlo standard errors
(``sqrt(mcse_fast^2 + mcse_plain^2)``): a false alarm about once in 150,000
checks if both chains are sound.
"""

import datetime as dt

import arviz as az
import numpy as np
import pytest

from forecasting import Case, Priors, Report, Source, fit

START = dt.date(2024, 10, 1)
Z = 4.5


def day(n):
    return START + dt.timedelta(days=n)


CASE = Case(
    "fast vs plain", "troops", START, day(40),
    (
        Report(day(3), "A", "approximately", 2000),
        Report(day(8), "B", "at_least", 2500),
        Report(day(12), "A", "between", low=2500, high=4000),
        Report(day(15), "C", "approximately", 4200),
        Report(day(20), "B", "up_to", 8000),
        Report(day(22), "A", "approximately", 3600),
        Report(day(25), "C", "projection", 7000, target=day(38)),
    ),
    sources=(Source("A", grade="B2"), Source("B", grade="C3"), Source("C", grade="B3", bias=(0.8, 1.5))),
    trajectory="saturating", priors=Priors(level=(300, 30000)),
)
SETTINGS = dict(draws=1000, tune=1000, chains=2, seed=17, target_accept="auto")  # the library default


@pytest.fixture(scope="module")
def both():
    return fit(CASE, sampler="nutpie", **SETTINGS), fit(CASE, sampler="pymc", **SETTINGS)


def _summary(forecast, days):
    post = forecast.idata.posterior
    ds = post[["bias", "noise", "wander", "log_ceiling"]].copy()
    ds["level"] = post["log_level"].isel(date=days)
    return ds.mean(("chain", "draw")), az.mcse(ds, method="mean")


@pytest.mark.slow
def test_fast_and_plain_paths_agree_within_monte_carlo_error(both):
    fast, plain = both
    days = [0, 3, 12, 22, 38]
    (m1, e1), (m2, e2) = _summary(fast, days), _summary(plain, days)
    for name in m1.data_vars:
        a, b = np.atleast_1d(m1[name].values), np.atleast_1d(m2[name].values)
        tol = Z * np.sqrt(np.atleast_1d(e1[name].values) ** 2 + np.atleast_1d(e2[name].values) ** 2)
        assert np.all(np.abs(a - b) < tol), (name, a, b, tol)


@pytest.mark.slow
def test_both_paths_converge(both):
    """The comparison above is only meaningful between sound chains.

    Seven claims leave a tiny ``wander`` possible, where the saturating prior's
    trend parameters form a narrow funnel. At a fixed target_accept of 0.99 a
    chain can stick there: PyMC 5.28 at this seed diverged 75 times (R-hat 1.028,
    bulk ESS 87), at seeds 18-20 0-1 times, so the fits use the library's default
    ``"auto"``, which samples again with smaller steps when anything diverged
    (then: 0 divergences on both paths). A rate of at most 0.25% of draws cannot
    move the means compared above beyond their Monte Carlo error.
    """
    for forecast in both:
        d = forecast.diagnostics()
        assert d["rhat_max"] < 1.01 and d["ess_bulk_min"] > 400, d
        assert d["divergences"] <= 0.0025 * d["draws"], d
