"""Simulation-based calibration (SBC) and a robustness suite.

SBC (Talts et al. 2018): draw every parameter from the model's priors, simulate a
case from them, fit it, and record the rank of each true value among the posterior
draws. If the sampler and the model's code are right, each rank is uniform. The
same runs give interval coverage (a 90% interval holds the truth in 90% of runs).

The robustness suite fits data NOT drawn from the model: heavy-tailed source
errors (Student t, 2 degrees of freedom), a mid-course shock (the level doubles
overnight), and a logistic build-up fitted with the random-walk prior; with a
well-specified control beside them. It reports how far coverage and CRPS degrade.

SBC runs either trajectory prior (``SimSettings.kind``: ``random_walk`` or
``saturating``) with fixed level and ceiling priors, so the priors do not depend on
the simulated claims (the defaults do). The robustness suite uses ``random_walk``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd

from .evidence import Case, Report, Source
from .priors import Priors, noise_prior, resolve
from .simulation import simulate_trajectory

START = dt.date(2024, 1, 1)
LEVEL = (300.0, 30000.0)  # fixed 90% range of the level on day 0
CEILING = (1000.0, 100000.0)  # fixed 90% range of the saturating prior's ceiling
GRADES = {"A": "B2", "B": "C3", "C": "B2"}
PARAMETERS = ("wander", "drift", "bias[A]", "noise[A]", "log_level[mid]", "log_level[last]")
PARAMETERS_SATURATING = ("wander", "log_ceiling", "halfway_days", "bias[A]", "noise[A]", "log_level[mid]",
                         "log_level[last]")
RANK_DRAWS = 99  # posterior draws each rank is taken among (thinned)
RANK_BINS = 5


@dataclasses.dataclass(frozen=True)
class SimSettings:
    """Size of each simulated case and of its fit."""

    days: int = 60
    n_reports: int = 25
    draws: int = 300
    tune: int = 300
    chains: int = 2
    target_accept: float = 0.95
    kind: str = "random_walk"  # trajectory prior simulated from and fitted (SBC only)


def _template(days, kind="random_walk"):
    return Case("simulated", "units", START, START + dt.timedelta(days=days - 1),
                (Report(START, "A", "approximately", value=1000.0),),
                sources=tuple(Source(n, g) for n, g in GRADES.items()), trajectory=kind,
                priors=Priors(level=LEVEL, ceiling=CEILING))


def draw_prior(rng, days: int = 60, kind: str = "random_walk") -> dict:
    """One draw of every parameter from the model's priors (fixed level and ceiling priors)."""
    P = resolve(_template(days, kind))["params"]
    wander = math.exp(P["wander"][0] + P["wander"][1] * rng.standard_normal())
    drift = P["drift"][0] + P["drift"][1] * rng.standard_normal()
    x0 = P["level"][0] + P["level"][1] * rng.standard_normal()
    scale = math.exp(math.log(P["source_bias"][1]) + P["source_bias_scale_spread"] * rng.standard_normal())
    noise_case = 0.4 * rng.standard_normal()
    sources = {}
    for name, grade in GRADES.items():
        median, spread = noise_prior(grade)
        bias = P["source_bias"][0] + scale * rng.standard_normal()
        noise = math.exp(math.log(median) + noise_case + spread * rng.standard_normal())
        sources[name] = (bias, noise)
    out = {"wander": wander, "drift": drift, "x0": x0, "sources": sources}
    if kind == "saturating":  # drawn after the rest, so random-walk draws are unchanged
        out["log_ceiling"] = P["ceiling"][0] + P["ceiling"][1] * rng.standard_normal()
        out["halfway_days"] = math.exp(P["halfway_days"][0] + P["halfway_days"][1] * rng.standard_normal())
    return out


def _trend(th, kind):
    if kind == "saturating":
        return {"wander": th["wander"], "log_ceiling": th["log_ceiling"], "halfway_days": th["halfway_days"]}
    return {"wander": th["wander"], "drift": th["drift"]}


def claims(x, sources, rng, n_reports, *, error="normal", start=START) -> list[Report]:
    """Claims read off a log-level path ``x``; bounds and ranges drawn around the reading.

    ``error="t2"`` gives each source Student-t errors with 2 degrees of freedom
    (scaled by its noise): heavy tails the model does not expect.
    """
    names = list(sources)
    out = []
    for _ in range(n_reports):
        day = int(rng.integers(0, len(x)))
        s = names[int(rng.integers(0, len(names)))]
        bias, noise = sources[s]
        e = rng.standard_t(2) if error == "t2" else rng.standard_normal()
        reading = x[day] + bias + noise * e
        date = start + dt.timedelta(days=day)
        kind = ("approximately", "at_least", "up_to", "between")[int(rng.integers(0, 4))]
        gap = rng.exponential(0.3)
        if kind == "approximately":
            out.append(Report(date, s, kind, value=math.exp(reading)))
        elif kind == "at_least":
            out.append(Report(date, s, kind, value=math.exp(reading - gap)))
        elif kind == "up_to":
            out.append(Report(date, s, kind, value=math.exp(reading + gap)))
        else:
            lo = reading - rng.uniform(0.01, 0.4)
            out.append(Report(date, s, kind, low=math.exp(lo), high=math.exp(reading + rng.uniform(0.05, 0.5))))
    return sorted(out, key=lambda r: r.date)


def _case(reports, days, kind="random_walk"):
    return _template(days, kind).with_(reports=tuple(reports))


def _fit(case, settings, seed):
    from .fit import fit

    return fit(case, draws=settings.draws, tune=settings.tune, chains=settings.chains, seed=seed,
               target_accept=settings.target_accept)


def sbc_one(i: int, seed: int = 0, settings: SimSettings = SimSettings()) -> dict:
    """One SBC replication: prior draw, simulated case, fit, ranks and coverage (JSON-ready)."""
    rng = np.random.default_rng([seed, i])
    kind = settings.kind
    th = draw_prior(rng, settings.days, kind)
    trend = _trend(th, kind)
    x = simulate_trajectory(kind, trend, settings.days, th["x0"], rng)
    case = _case(claims(x, th["sources"], rng, settings.n_reports), settings.days, kind)
    fc = _fit(case, settings, seed * 100003 + i)
    post = fc.idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    names = fc.design.source_names
    draws = {p: post[p].values.reshape(n) for p in trend}
    truth = dict(trend)
    draws.update({"log_level[mid]": post["log_level"].values.reshape(n, -1)[:, settings.days // 2],
                  "log_level[last]": post["log_level"].values.reshape(n, -1)[:, -1]})
    truth.update({"log_level[mid]": x[settings.days // 2], "log_level[last]": x[-1]})
    if "A" in names:
        k = names.index("A")
        draws["bias[A]"] = post["bias"].values.reshape(n, -1)[:, k]
        draws["noise[A]"] = post["noise"].values.reshape(n, -1)[:, k]
        truth["bias[A]"], truth["noise[A]"] = th["sources"]["A"]
    # ranks among evenly thinned draws (the chains are autocorrelated)
    pick = np.linspace(0, n - 1, RANK_DRAWS).round().astype(int)
    ranks, in50, in90 = {}, {}, {}
    for p, v in draws.items():
        ranks[p] = int((v[pick] < truth[p]).sum())
        lo50, hi50, lo90, hi90 = np.quantile(v, [0.25, 0.75, 0.05, 0.95])
        in50[p] = bool(lo50 <= truth[p] <= hi50)
        in90[p] = bool(lo90 <= truth[p] <= hi90)
    dg = fc.diagnostics()
    return {"i": i, "ranks": ranks, "in50": in50, "in90": in90, "divergences": dg["divergences"],
            "rhat_max": dg["rhat_max"]}


def rank_test(ranks, *, bins: int = RANK_BINS, max_rank: int = RANK_DRAWS) -> tuple[float, float]:
    """Chi-square statistic and p-value of binned ranks against uniformity.

    Under the null (uniform ranks on ``0..max_rank``) the binned counts are
    multinomial with equal cells, so the statistic is chi-square with ``bins - 1``
    degrees of freedom (approximately, for at least ~5 ranks per bin).
    """
    from scipy.stats import chisquare

    r = np.asarray(ranks)
    counts = np.bincount(np.minimum(r * bins // (max_rank + 1), bins - 1), minlength=bins)
    stat, p = chisquare(counts)
    return float(stat), float(p)


class SBCResult:
    """Ranks and coverage over SBC replications.

    Attributes
    ----------
    runs : list of dict
        One :func:`sbc_one` output per replication.
    """

    def __init__(self, runs, failures=None):
        self.runs = sorted(runs, key=lambda r: r["i"])
        self.failures = dict(failures or {})

    def ranks(self) -> pd.DataFrame:
        """One row per replication, one column per parameter."""
        return pd.DataFrame([r["ranks"] for r in self.runs])

    def summary(self, alpha: float = 0.01) -> pd.DataFrame:
        """Per parameter: ``n, chi2, p_value, uniform, coverage50, coverage90`` and their binomial se.

        ``uniform`` is ``p_value > alpha / n_parameters`` (Bonferroni), so with
        correct code all parameters pass together with probability at least ``1 - alpha``.
        """
        ranks = self.ranks()
        cov50 = pd.DataFrame([r["in50"] for r in self.runs])
        cov90 = pd.DataFrame([r["in90"] for r in self.runs])
        rows = []
        m = ranks.shape[1]
        for p in ranks.columns:
            r = ranks[p].dropna().astype(int)
            stat, pv = rank_test(r)
            n = len(r)
            rows.append({"parameter": p, "n": n, "chi2": stat, "p_value": pv, "uniform": pv > alpha / m,
                         "coverage50": cov50[p].mean(), "coverage90": cov90[p].mean(),
                         "se50": math.sqrt(0.25 / n), "se90": math.sqrt(0.09 / n)})
        return pd.DataFrame(rows)


def sbc(n_sims: int = 30, *, seed: int = 0, settings: SimSettings = SimSettings(), out=None, scheduler=None,
        workers: int | None = 1, progress: bool = False) -> SBCResult:
    """Run simulation-based calibration: ``n_sims`` prior draws, simulated cases and fits.

    Parameters
    ----------
    n_sims : int
    seed : int
    settings : SimSettings
    out : str or Path, optional
        Keep one result file per replication there (a rerun skips finished ones).
    scheduler, workers, progress
        See :func:`forecasting.batch.run_batch`.

    Returns
    -------
    SBCResult
    """
    return SBCResult(*_batch([(f"sbc-{seed}-{i:04d}", sbc_one, (i, seed, settings)) for i in range(n_sims)],
                             out, scheduler, workers, progress, "SBC fits"))


def _batch(specs, out, scheduler, workers, progress, desc):
    import tempfile

    from .batch import Job, run_batch

    jobs = [Job(k, fn, args) for k, fn, args in specs]
    if out is None:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_batch(jobs, tmp, scheduler=scheduler, workers=workers, progress=progress, desc=desc)
    else:
        res = run_batch(jobs, out, scheduler=scheduler, workers=workers, progress=progress, desc=desc)
    return list(res.results.values()), res.failures


# ------------------------------------------------------------------ robustness
SCENARIOS = ("control", "heavy_tails", "shock", "logistic")


def robust_one(scenario: str, i: int, seed: int = 0, settings: SimSettings = SimSettings()) -> dict:
    """One robustness replication: simulate data of a kind, fit, score the true path (JSON-ready).

    Returns the share of days whose true level is inside the 50% and 90% intervals,
    and the mean CRPS (log scale) over days and on the last day.
    """
    from . import scores

    if scenario not in SCENARIOS:
        raise ValueError(f"unknown robustness scenario {scenario!r}; expected one of {SCENARIOS}")
    rng = np.random.default_rng([seed, i, SCENARIOS.index(scenario)])
    th = draw_prior(rng, settings.days)
    days = settings.days
    if scenario == "logistic":
        # a build-up from ~5% to ~95% of a ceiling, centred in the period
        ceiling = th["x0"] + math.log(10.0)
        t = np.arange(days)
        mid, width = days * rng.uniform(0.3, 0.7), days * rng.uniform(0.05, 0.15)
        x = ceiling - np.log1p(np.exp(-(t - mid) / width))
    else:
        x = simulate_trajectory("random_walk", {"wander": th["wander"], "drift": th["drift"]}, days, th["x0"], rng)
        if scenario == "shock":
            x[days // 2:] += math.log(2.0)
    reports = claims(x, th["sources"], rng, settings.n_reports, error="t2" if scenario == "heavy_tails" else "normal")
    fc = _fit(_case(reports, days), settings, seed * 100003 + i)
    logd = np.log(fc.level_draws).T  # (days, draws)
    return {"scenario": scenario, "i": i,
            "coverage50": float(scores.interval_coverage(logd, x, 0.5).mean()),
            "coverage90": float(scores.interval_coverage(logd, x, 0.9).mean()),
            "crps": float(scores.crps(logd, x).mean()), "crps_last": float(scores.crps(logd[-1], x[-1])),
            "divergences": fc.diagnostics()["divergences"]}


def robustness(n_sims: int = 20, *, seed: int = 0, settings: SimSettings = SimSettings(), scenarios=SCENARIOS,
               out=None, scheduler=None, workers: int | None = 1, progress: bool = False) -> pd.DataFrame:
    """Fit ``n_sims`` cases of each kind; mean coverage and CRPS per kind.

    Returns
    -------
    pandas.DataFrame
        ``scenario,n,coverage50,coverage90,se50,se90,crps,crps_last,divergent_fits``. ``se``
        columns are the standard errors of the coverages over replications.
    """
    specs = [(f"robust-{seed}-{s}-{i:04d}", robust_one, (s, i, seed, settings)) for s in scenarios
             for i in range(n_sims)]
    runs, _ = _batch(specs, out, scheduler, workers, progress, "robustness fits")
    df = pd.DataFrame(runs)
    g = df.groupby("scenario", sort=False)
    out_df = pd.DataFrame({
        "n": g.size(), "coverage50": g["coverage50"].mean(), "coverage90": g["coverage90"].mean(),
        "se50": g["coverage50"].std(ddof=1) / np.sqrt(g.size()),
        "se90": g["coverage90"].std(ddof=1) / np.sqrt(g.size()),
        "crps": g["crps"].mean(), "crps_last": g["crps_last"].mean(),
        "divergent_fits": g["divergences"].apply(lambda d: int((d > 0).sum())),
    }).reset_index()
    return out_df
