"""Backtests: refit a case as it stood at each vintage and score what it said.

A *vintage* is a forecast date: the case refitted with ``as_of`` set to it, so the
fit sees only reports made on or before it (and its claim-informed default priors
too). Each vintage's forecast is scored

* against every **later report** (made after the vintage) about the primary
  quantity, as evidence about the trajectory: the predictive distribution of the claim is the vintage's trajectory
  at the day the claim is about, read through its source's learnt bias and noise
  (a source the vintage never heard from gets a draw from the fitted population
  of sources). A point claim gets CRPS, log score, PIT and 50%/90% coverage on
  the log scale; a bound or range gets its predictive probability and log score;
* against the **truth**, for simulated cases, on the vintage date and 7, 14 and
  28 days later;
* against recorded **outcomes** of scenarios (``[[outcomes]]``), for every
  scenario still open at the vintage: Brier and log score. Events that had
  already happened by the vintage are conditioned on, as an analyst would.

Baselines scored on the same items: ``latest`` (the latest point figure reported
so far), ``median`` (median of all figures so far), ``max`` (the largest claim so
far), each carried forward flat, and ``no_bias``: the same model with every
source's bias held at 1 (declared range 0.99-1.01), which isolates what learning
biases buys. Point baselines have no spread, so they get CRPS only (the absolute
error of the log, which is their CRPS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import quantities
from .errors import CaseError
from .evidence import _date

METHODS = ("model", "no_bias", "latest", "median", "max")
MODEL_METHODS = ("model", "no_bias")
POINT_BASELINES = ("latest", "median", "max")
TRUTH_LEADS = (0, 7, 14, 28)
NO_BIAS = (0.99, 1.01)
POINT_CLAIMS = ("approximately", "projection")
ROW_COLUMNS = ["vintage", "method", "against", "report", "source", "claim", "about", "lead_days", "value",
               "crps", "log_score", "pit", "in50", "in90", "probability"]
SCENARIO_COLUMNS = ["vintage", "method", "scenario", "resolves_by", "probability", "se", "outcome",
                    "outcome_date", "brier", "log_score"]
TRAJ_COLUMNS = ["vintage", "method", "date", "q05", "q25", "q50", "q75", "q95"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sampler and simulation settings shared by every vintage's fits."""

    draws: int = 500
    tune: int = 500
    chains: int = 2
    seed: int = 0
    target_accept: float | str = "auto"  # as fit's default: 0.9 (0.95 if sparse), then 0.99 and 0.995 while anything diverges
    scenario_draws: int = 2000
    methods: tuple = METHODS


def vintages(case, every="7D", *, start=None, end=None) -> list[dt.date]:
    """Forecast dates from ``start`` (default: the first report) every ``every`` up to ``end``.

    ``end`` defaults to the day before the last report, so every vintage has at
    least one later report to be scored against.

    Examples
    --------
    >>> import forecasting as fc
    >>> vintages(fc.builtin_case(), "7D")[:2]
    [datetime.date(2024, 10, 10), datetime.date(2024, 10, 17)]
    """
    try:
        step = pd.Timedelta(every)
    except (ValueError, TypeError):
        raise CaseError(f"got {every!r}", field="every", value=every, expected="a period like 7D or 14D") from None
    if step < pd.Timedelta("1D"):
        raise CaseError(f"got {every!r}", field="every", value=every, expected="a period of at least one day (1D)")
    first = min(r.date for r in case.reports)
    last = max(r.date for r in case.reports)
    start = first if start is None else _date(start, "start")
    end = last - dt.timedelta(days=1) if end is None else _date(end, "end")
    start = max(start, first)  # no fit without a report
    if end < start:
        raise CaseError(f"no vintage between {start} and {end}", field="start",
                        expected=f"a start on or before {end}")
    return [d.date() for d in pd.date_range(start, end, freq=step)]


def no_bias_case(case):
    """The case with every source's bias held at 1: the no-bias-modelling baseline.

    Declaring a tight range (0.99-1.01) keeps the model (and its compiled fast
    path) unchanged; only the priors of the biases move.
    """
    return case.with_(sources=tuple(dataclasses.replace(s, bias=NO_BIAS) for s in case.sources))


def _figure(r) -> float:
    return math.sqrt(r.low * r.high) if r.claim == "between" else r.value


def baseline_figures(case, as_of) -> dict:
    """The point baselines at a vintage, in the case's unit: ``latest``, ``median``, ``max``.

    ``latest`` uses the latest ``approximately`` or ``between`` claim (a claim of
    the level itself; bounds and projections are not), falling back to any claim.
    Only claims about the primary quantity count (a subset's figure is not a total).
    """
    as_of = _date(as_of, "as_of")
    seen = [r for r in case.reports if r.date <= as_of and quantities.quantity_of(case, r) is None]
    if not seen:
        return {}
    level = [r for r in seen if r.claim in ("approximately", "between")] or seen
    latest = max(level, key=lambda r: r.date)  # stable: the last listed of that day
    latest = [r for r in level if r.date == latest.date][-1]
    figs = [_figure(r) for r in seen]
    return {"latest": _figure(latest), "median": float(np.median(figs)), "max": float(max(figs))}


def _logmeanexp(a, axis=0):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def claim_reading(forecast, report, rng):
    """Predictive draws ``(mu, sd)`` of a report's log reading under a fitted forecast.

    ``mu`` is the trajectory's log level on the day the claim is about plus the
    source's log bias (and the projection bias); ``sd`` the source's noise (with the
    projection noise for the lead). A source the fit has not seen gets one draw per
    posterior draw from the fitted population (pooled or its declared prior).
    """
    from .priors import log_normal_from_range, noise_prior

    d = forecast.design
    post = forecast.idata.posterior
    P = d.priors["params"]
    n = post.sizes["chain"] * post.sizes["draw"]
    shift, share = quantities.reading(forecast.case, report)  # a subset or stage reads the primary shifted
    day = (report.about - forecast.case.start).days + shift
    x = post["log_level"].values.reshape(n, -1)[:, day]
    if share >= 0:
        x = x + post["log_share"].values.reshape(n, -1)[:, share]
    if report.source in d.source_names:
        k = d.source_names.index(report.source)
        bias = post["bias"].values.reshape(n, -1)[:, k]
        noise = post["noise"].values.reshape(n, -1)[:, k]
    else:
        src = next(s for s in forecast.case.sources if s.name == report.source)
        if src.bias is not None:
            mu, sd = log_normal_from_range(*src.bias)
            bias = mu + sd * rng.standard_normal(n)
        else:
            bias = P["source_bias"][0] + post["bias_scale"].values.reshape(n) * rng.standard_normal(n)
        if getattr(src, "noise", None) is not None:  # a declared range (a track record) replaces the grade's
            mu, spread = log_normal_from_range(*src.noise)
            median = math.exp(mu)
        else:
            median, spread = noise_prior(src.grade)
        noise = np.exp(np.log(median) + post["noise_case"].values.reshape(n) + spread * rng.standard_normal(n))
    var = noise**2
    if report.claim == "projection":
        lead = (report.about - report.date).days
        if "projection_bias" in post:
            pb = post["projection_bias"].values.reshape(n)
            pn = post["projection_noise"].values.reshape(n)
        else:  # the fit saw no projection: use the prior
            pb = P["projection_bias"][0] + P["projection_bias"][1] * rng.standard_normal(n)
            pn = np.exp(P["projection_noise"][0] + P["projection_noise"][1] * rng.standard_normal(n))
        bias = bias + pb
        var = var + pn**2 * lead / 30.0
    return x + bias, np.sqrt(var)


def score_claim(mu, sd, report, rng) -> dict:
    """Scores of one later report against predictive reading draws ``(mu, sd)``."""
    from scipy.stats import norm

    from . import scores
    from .fit import log_interval_prob

    if report.claim in POINT_CLAIMS:
        y = math.log(report.value)
        logp = float(_logmeanexp(norm.logpdf(y, mu, sd)))
        u = float(np.mean(norm.cdf((y - mu) / sd)))
        readings = mu + sd * rng.standard_normal(len(mu))
        return {"crps": float(scores.crps(readings, y)), "log_score": -logp, "pit": u,
                "in50": float(0.25 <= u <= 0.75), "in90": float(0.05 <= u <= 0.95), "probability": math.nan}
    lo = -np.inf if report.claim == "up_to" else math.log(report.low if report.claim == "between" else report.value)
    hi = np.inf if report.claim == "at_least" else math.log(report.high if report.claim == "between" else report.value)
    logp = float(_logmeanexp(log_interval_prob((lo - mu) / sd, (hi - mu) / sd)))
    return {"crps": math.nan, "log_score": -logp, "pit": math.nan, "in50": math.nan, "in90": math.nan,
            "probability": math.exp(logp)}


def _scenarios_at(case, vintage):
    """The case's scenarios with every outcome known by the vintage marked observed."""
    known = {o.scenario: o.date for o in case.outcomes if o.resolved and o.date <= vintage}
    return tuple(dataclasses.replace(s, observed=known[s.name]) if s.name in known
                 else dataclasses.replace(s, observed=None) if s.observed and s.observed > vintage else s
                 for s in case.scenarios)


def _open_outcomes(case, vintage):
    by = {s.name: s for s in case.scenarios}
    for o in case.outcomes:
        s = by[o.scenario]
        if vintage >= s.resolves_by or (o.resolved and o.date <= vintage):
            continue  # already settled: nothing left to forecast
        yield s, o


def score_vintage(case, vintage, settings: Settings = Settings(), truth=None) -> dict:
    """Fit one vintage (the model and the no-bias variant) and score it; JSON-ready output.

    Parameters
    ----------
    case : Case
        The full case; only reports made on or before ``vintage`` reach the fits.
    vintage : date
    settings : Settings
    truth : dict, optional
        For simulated cases: ``{"log_level": array over the case's days}``.

    Returns
    -------
    dict
        ``vintage``, ``reports_used`` (their indices in ``case.reports``), ``rows``,
        ``scenarios``, ``trajectory`` and ``diagnostics``.
    """
    from .fit import fit
    from .scenarios import simulate

    vintage = _date(vintage, "vintage")
    vcase = case.with_(as_of=vintage)
    # later claims about the primary quantity: every method forecasts it (the point baselines
    # only it), so all are scored on the same claims
    later = [(i, r) for i, r in enumerate(case.reports) if r.date > vintage and quantities.quantity_of(case, r) is None]
    rows, scen_rows, traj_rows, diags = [], [], [], {}
    base = {"vintage": vintage.isoformat()}
    days = pd.date_range(case.start, case.horizon)
    t0 = (vintage - case.start).days
    truth_days = [t0 + k for k in TRUTH_LEADS if 0 <= t0 + k < len(days)] if truth is not None else []
    used = None
    for m, method in enumerate(settings.methods):
        if method not in MODEL_METHODS:
            continue
        mcase = vcase if method == "model" else no_bias_case(vcase)
        # an independent quantity's fit is needed only if a scenario's driver reads it
        fc = fit(mcase, draws=settings.draws, tune=settings.tune, chains=settings.chains, seed=settings.seed,
                 target_accept=settings.target_accept, related=quantities.drives_independent(mcase))
        if used is None:
            used = [int(i) for i in fc.design.report_index]
        dg = fc.diagnostics()
        # the columns are the primary fit's; "problems" also names an independent quantity's failures
        diags[method] = {**{k: dg[k] for k in ("rhat_max", "ess_bulk_min", "divergences", "converged")},
                         "problems": "; ".join(dg["problems"])}
        rng = np.random.default_rng([settings.seed, m, t0])
        for i, r in later:
            mu, sd = claim_reading(fc, r, rng)
            rows.append({**base, "method": method, "against": "report", "report": i, "source": r.source,
                         "claim": r.claim, "about": r.about.isoformat(), "lead_days": (r.about - vintage).days,
                         "value": _figure(r), **score_claim(mu, sd, r, rng)})
        if truth_days:
            rows += _truth_rows(base, method, np.log(fc.level_draws), truth, truth_days, days, t0, rng)
        traj = fc.trajectory()
        keep = traj[pd.to_datetime(traj["date"]) >= pd.Timestamp(vintage)]
        traj_rows += [{**base, "method": method, "date": str(r.date), **{q: float(getattr(r, q)) for q in
                       ("q05", "q25", "q50", "q75", "q95")}} for r in keep.itertuples()]
        opened = list(_open_outcomes(case, vintage))
        if opened:
            res = simulate(fc, _scenarios_at(case, vintage), as_of=vintage, draws=settings.scenario_draws,
                           seed=settings.seed)
            tab = res.table().set_index("scenario")
            eps = 0.5 / (res.draws * res.replicates)  # below the simulation's resolution
            from . import scores

            for s, o in opened:
                p = float(tab.loc[s.name, "probability"])
                y = int(o.resolved)
                scen_rows.append({**base, "method": method, "scenario": s.name,
                                  "resolves_by": s.resolves_by.isoformat(), "probability": p,
                                  "se": float(tab.loc[s.name, "se"]), "outcome": y,
                                  "outcome_date": (o.date or s.resolves_by).isoformat(),
                                  "brier": float(scores.brier(p, y)),
                                  "log_score": float(scores.log_score_binary(p, y, eps=eps))})
    figs = baseline_figures(case, vintage)
    for method in settings.methods:
        if method not in POINT_BASELINES:
            continue
        f = math.log(figs[method])
        for i, r in later:
            if r.claim in POINT_CLAIMS:
                rows.append({**base, "method": method, "against": "report", "report": i, "source": r.source,
                             "claim": r.claim, "about": r.about.isoformat(), "lead_days": (r.about - vintage).days,
                             "value": _figure(r), "crps": abs(f - math.log(r.value)), "log_score": math.nan,
                             "pit": math.nan, "in50": math.nan, "in90": math.nan, "probability": math.nan})
        for k in truth_days:
            rows.append({**base, "method": method, "against": "truth", "report": -1, "source": "", "claim": "",
                         "about": days[k].date().isoformat(), "lead_days": k - t0,
                         "value": float(np.exp(truth["log_level"][k])),
                         "crps": abs(f - float(truth["log_level"][k])), "log_score": math.nan, "pit": math.nan,
                         "in50": math.nan, "in90": math.nan, "probability": math.nan})
    if used is None:  # point baselines only: the reports they saw
        used = [i for i, r in enumerate(case.reports) if r.date <= vintage]
    return {"vintage": vintage.isoformat(), "reports_used": used, "rows": rows, "scenarios": scen_rows,
            "trajectory": traj_rows, "diagnostics": diags, "baselines": figs}


def _truth_rows(base, method, log_draws, truth, truth_days, days, t0, rng):
    from . import scores

    k = np.array(truth_days)
    x = log_draws[:, k].T  # (targets, draws)
    y = np.asarray(truth["log_level"], float)[k]
    crps = scores.crps(x, y)
    ls = scores.log_score_draws(x, y)
    u = scores.pit(x, y, rng=rng)
    c50 = scores.interval_coverage(x, y, 0.5)
    c90 = scores.interval_coverage(x, y, 0.9)
    return [{**base, "method": method, "against": "truth", "report": -1, "source": "", "claim": "",
             "about": days[kk].date().isoformat(), "lead_days": int(kk - t0), "value": float(np.exp(y[j])),
             "crps": float(crps[j]), "log_score": float(ls[j]), "pit": float(u[j]), "in50": float(c50[j]),
             "in90": float(c90[j]), "probability": math.nan} for j, kk in enumerate(k)]


class Backtest:
    """Scores of every vintage, with summaries and skill against the baselines.

    Attributes
    ----------
    case : Case
    scores : pandas.DataFrame
        One row per vintage, method and scored item (later report or true value):
        ``vintage,method,against,report,source,claim,about,lead_days,value,crps,
        log_score,pit,in50,in90,probability``. CRPS and log score are on the log
        scale of the case's unit; ``probability`` is a bound's or range's
        predictive probability.
    scenarios : pandas.DataFrame
        ``vintage,method,scenario,resolves_by,probability,se,outcome,outcome_date,brier,log_score``.
    trajectories : pandas.DataFrame
        Each vintage's trajectory quantiles from the vintage to the horizon.
    diagnostics : pandas.DataFrame
        Convergence of each vintage's fits.
    failures : dict
        Vintage -> error, for fits that failed.
    """

    def __init__(self, case, results: dict, failures: dict | None = None):
        self.case = case
        self.failures = dict(failures or {})
        order = sorted(results)
        self.results = {k: results[k] for k in order}
        frame = lambda key, cols: pd.DataFrame([r for k in order for r in results[k][key]], columns=cols)
        self.scores = frame("rows", ROW_COLUMNS)
        self.scenarios = frame("scenarios", SCENARIO_COLUMNS)
        self.trajectories = frame("trajectory", TRAJ_COLUMNS)
        for df in (self.scores, self.scenarios, self.trajectories):
            for c in df.columns:
                if c in ("crps", "log_score", "pit", "in50", "in90", "probability", "value", "se", "brier",
                         "q05", "q25", "q50", "q75", "q95"):
                    df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        self.diagnostics = pd.DataFrame([{"vintage": k, "method": m, **v} for k in order
                                         for m, v in results[k]["diagnostics"].items()])

    @property
    def vintages(self) -> list[str]:
        return list(self.results)

    def summary(self, after=None) -> pd.DataFrame:
        """Mean scores per method and target, on items every compared method scored.

        ``after``: only vintages after this date (e.g. to leave out a first vintage
        that has heard nothing but a denial).

        Columns ``against,method,n,crps,log_score,coverage50,coverage90,pit_mean`` and
        ``crps_skill_vs_<baseline>``: CRPS skill of this method over each other method
        on the same point claims (or true values).
        """
        rows = []
        scores = self.scores
        if after is not None:
            scores = scores[pd.to_datetime(scores["vintage"]) > pd.Timestamp(_date(after, "after"))]
        for against, df in scores.groupby("against"):
            point = df[df["crps"].notna()]
            # compare methods on the same (vintage, item) pairs only
            items = point.groupby(["vintage", "report", "about"])["method"].nunique()
            full = items[items == point["method"].nunique()].index
            point = point.set_index(["vintage", "report", "about"]).loc[full].reset_index()
            means = point.groupby("method")["crps"].mean()
            for method, g in df.groupby("method"):
                row = {"against": against, "method": method, "n": int(point["method"].eq(method).sum()),
                       "crps": means.get(method, np.nan), "log_score": g["log_score"].mean(),
                       "coverage50": g["in50"].mean(), "coverage90": g["in90"].mean(), "pit_mean": g["pit"].mean(),
                       "bound_probability": g["probability"].mean()}
                for ref in means.index:
                    if ref != method:
                        row[f"crps_skill_vs_{ref}"] = _skill(means.get(method, np.nan), means[ref])
                rows.append(row)
        return pd.DataFrame(rows)

    def scenario_summary(self) -> pd.DataFrame:
        """Brier and log score per method over open scenario-vintages, with the Murphy decomposition."""
        from . import scores

        rows = []
        for method, g in self.scenarios.groupby("method"):
            dec = scores.brier_decomposition(g["probability"].to_numpy(), g["outcome"].to_numpy(), bins=5)
            rows.append({"method": method, "n": len(g), "events": int(g["outcome"].sum()),
                         "scenarios": g["scenario"].nunique(), "brier": g["brier"].mean(),
                         "log_score": g["log_score"].mean(), **{k: dec[k] for k in
                         ("reliability", "resolution", "uncertainty", "within_variance", "within_covariance")},
                         "brier_skill_vs_coin": scores.skill(g["brier"].mean(), 0.25)})
        out = pd.DataFrame(rows)
        if {"model", "no_bias"} <= set(out.get("method", [])):
            b = out.set_index("method")["brier"]
            out["brier_skill_vs_no_bias"] = [_skill(b[m], b["no_bias"]) for m in out["method"]]
        return out

    def write(self, out) -> list[Path]:
        """Write ``backtest.csv`` (every score), ``backtest_summary.csv``, ``backtest_scenarios.csv``,
        ``backtest_trajectories.csv`` and ``backtest_failures.csv`` (if any) to ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, df in (("backtest.csv", self.scores), ("backtest_summary.csv", self.summary()),
                         ("backtest_scenarios.csv", self.scenarios),
                         ("backtest_scenario_summary.csv", self.scenario_summary() if len(self.scenarios) else None),
                         ("backtest_trajectories.csv", self.trajectories),
                         ("backtest_diagnostics.csv", self.diagnostics)):
            if df is not None:
                df.to_csv(out / name, index=False)
                paths.append(out / name)
        if self.failures:
            pd.DataFrame({"vintage": list(self.failures), "error": list(self.failures.values())}).to_csv(
                out / "backtest_failures.csv", index=False)
            paths.append(out / "backtest_failures.csv")
        return paths


def _skill(score, ref):
    from .scores import skill

    if not (np.isfinite(score) and np.isfinite(ref)):
        return np.nan
    return skill(score, ref)


def backtest(case, *, every="7D", start=None, end=None, truth=None, settings: Settings | None = None,
             out=None, scheduler=None, workers: int | None = None, progress: bool = False) -> Backtest:
    """Refit a case at each vintage and score every forecast (see the module docstring).

    Parameters
    ----------
    case : Case
    every, start, end
        Vintages, see :func:`vintages`.
    truth : dict, optional
        ``{"log_level": array}`` for simulated cases (:func:`forecasting.simulation.simulate_case`).
    settings : Settings, optional
        Sampler settings (defaults: 2 chains of 500 draws).
    out : str or Path, optional
        Folder for one result file per vintage (``vintages/<date>.json``); a rerun
        with the same folder skips finished vintages. Default: a temporary folder.
    scheduler : str or distributed.Client, optional
        Run the vintages on a Dask cluster.
    workers : int, optional
        Local processes (default: one per CPU); ``1`` runs in this process.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Backtest

    Examples
    --------
    >>> import forecasting as fc
    >>> bt = fc.backtest(fc.builtin_case(), every="28D", workers=1)  # doctest: +SKIP
    >>> bt.summary()  # doctest: +SKIP
    """
    import tempfile

    from .batch import Job, run_batch

    settings = settings or Settings()
    unknown = [m for m in settings.methods if m not in METHODS]
    if unknown:
        raise CaseError(f"unknown method {unknown[0]!r}", field="methods", expected="some of " + ", ".join(METHODS))
    dates = vintages(case, every, start=start, end=end)
    jobs = [Job(d.isoformat(), score_vintage, (case, d, settings, truth)) for d in dates]
    if out is None:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_batch(jobs, tmp, scheduler=scheduler, workers=workers, progress=progress, desc="vintages")
    else:
        folder = Path(out) / "vintages"
        _check_same_run(folder, case, settings, truth)
        res = run_batch(jobs, folder, scheduler=scheduler, workers=workers, progress=progress, desc="vintages")
    return Backtest(case, res.results, res.failures)


def _check_same_run(folder: Path, case, settings, truth):
    """A rerun may reuse finished vintages only if they came from the same case and settings."""
    import hashlib
    import json

    from .batch import write_atomic
    from .casefile import case_to_dict

    stamp = {"settings": dataclasses.asdict(settings),
             "case": hashlib.sha256(json.dumps(case_to_dict(case), sort_keys=True, default=str).encode()).hexdigest(),
             "truth": truth is not None}
    stamp["settings"]["methods"] = list(stamp["settings"]["methods"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder.parent / "backtest_run.json"
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != stamp:
            what = "the case" if old and old.get("case") != stamp["case"] else "the settings"
            raise CaseError(f"{folder} holds vintages of another run ({what} differ)", field="out",
                            expected="a new output folder, or the same case and settings as before")
    else:
        write_atomic(path, stamp)
