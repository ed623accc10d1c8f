"""What moved the forecast: the effect of leaving out each report and each source.

For a fitted forecast, each headline number (the trajectory's median on a chosen
date, and each scenario probability) is recomputed without one report, or without
all of one source's reports. Leaving out claims ``J`` reweights the posterior draws
by ``1 / p(claims J | draw)``, the pointwise likelihood stored in
``idata.log_likelihood["claims"]``; the weights are Pareto-smoothed (PSIS,
``arviz.psislw``). Where the smoothed weights are unreliable (Pareto k above 0.7),
the case is refitted without those claims instead, with the same settings.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .errors import CaseError
from .evidence import _date

K_THRESHOLD = 0.7
COLUMNS = ["dropped", "kind", "label", "target", "baseline", "without", "change", "pareto_k", "method"]


def _weighted_quantile(x, w, q):
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(np.interp(q * cw[-1], cw - w[order] / 2, x[order]))


def _targets(forecast, date, scenario_result):
    """Per-draw quantities whose (weighted) summaries are the headline numbers."""
    date = _date(date, "date") if date is not None else forecast.case.as_of or forecast.case.horizon
    i = (date - forecast.case.start).days
    if not 0 <= i < forecast.case.days:
        raise CaseError(f"date {date} is outside the case period {forecast.case.start} to {forecast.case.horizon}",
                        field="date", expected="a date within the case period")
    out = {f"level on {date} (median, {forecast.case.unit})": ("median", forecast.level_draws[:, i])}
    if scenario_result is not None:
        occ = scenario_result.happened()
        n = forecast.level_draws.shape[0]
        for name in occ.columns:
            # one row per posterior draw: mean over that draw's event replicates
            out[f"P({name})"] = ("mean", occ[name].to_numpy(float).reshape(n, -1).mean(axis=1))
    return out


def _summaries(targets, w):
    w = w / w.sum()
    return {t: (_weighted_quantile(v, w, 0.5) if how == "median" else float(np.sum(w * v)))
            for t, (how, v) in targets.items()}


def influence(forecast, *, date=None, scenarios: bool = True, refit: bool = True, seed: int = 0,
              scenario_replicates: int = 5) -> pd.DataFrame:
    """The effect on each headline number of leaving out each report and each source.

    Parameters
    ----------
    forecast : Forecast
    date : date, optional
        Date of the trajectory headline (default: the case's ``as_of``, else its horizon).
    scenarios : bool
        Also the probability of each of the case's scenarios.
    refit : bool
        Refit where PSIS is unreliable (Pareto k > 0.7); otherwise keep the PSIS
        estimate and flag it ``psis (unreliable)``.
    seed : int
        Seed of the scenario simulation and of refits.
    scenario_replicates : int
        Event simulations per posterior draw.

    Returns
    -------
    pandas.DataFrame
        ``dropped,kind,label,target,baseline,without,change,pareto_k,method``: one
        row per left-out report (``kind="report"``, ``dropped`` its index in
        ``case.reports``) or source, and per headline number; ``change`` is
        ``without - baseline``; ``method`` is ``psis`` or ``refit``.
    """
    import arviz as az

    from .scenarios import simulate

    case = forecast.case
    ll = forecast.idata.log_likelihood["claims"]
    n = ll.sizes["chain"] * ll.sizes["draw"]
    ll = ll.values.reshape(n, -1)
    index = [int(i) for i in forecast.design.report_index]
    result = None
    if scenarios and case.scenarios:
        result = simulate(forecast, draws=n, replicates=scenario_replicates, seed=seed)
    targets = _targets(forecast, date, result)
    base = _summaries(targets, np.ones(n))
    groups = [("report", str(index[j]), _label(case.reports[index[j]]), [j]) for j in range(len(index))]
    for s in forecast.design.source_names:
        cols = [j for j in range(len(index)) if case.reports[index[j]].source == s]
        groups.append(("source", s, f"all {len(cols)} reports of {s}", cols))
    rows = []
    for kind, key, label, cols in groups:
        lw = -ll[:, cols].sum(axis=1)
        lw_s, k = az.psislw(lw - lw.max())
        k = float(np.asarray(k))
        method = "psis"
        if k > K_THRESHOLD and refit:
            new = _refit_without(forecast, {index[j] for j in cols}, seed)
            if new is None:
                continue  # nothing would be left to fit
            tg = _targets(new[0], date, new[1])
            est = _summaries(tg, np.ones(len(next(iter(tg.values()))[1])))
            method = "refit"
        else:
            est = _summaries(targets, np.exp(lw_s - lw_s.max()))
            if k > K_THRESHOLD:
                method = "psis (unreliable)"
        for t in targets:
            rows.append({"dropped": key, "kind": kind, "label": label, "target": t, "baseline": base[t],
                         "without": est[t], "change": est[t] - base[t], "pareto_k": k, "method": method})
    return pd.DataFrame(rows, columns=COLUMNS)


def _label(r) -> str:
    return f"{r.source}, {r.date}: {r.describe()}" + (f" ({r.quantity})" if r.quantity else "")


def _with_echoes(reports, drop: set) -> set:
    """``drop`` and every report that echoes one of them, directly or through other echoes.

    An echo carries no weight while its origin is in the case; without the origin it
    would become evidence of its own, and the refit would answer another question
    than the reweighting does (leaving out Zelensky would add the outlets repeating him).
    """
    from .echoes import echo_origins

    origins = echo_origins(reports)
    out, grew = set(drop), True
    while grew:
        new = {i for i, o in enumerate(origins) if o is not None and o in out} - out
        out |= new
        grew = bool(new)
    return out


def _refit_without(forecast, drop: set, seed):
    from .fit import fit
    from .scenarios import simulate

    case = forecast.case
    keep = tuple(r for i, r in enumerate(case.reports) if i not in _with_echoes(case.reports, drop))
    # hold the claim-informed default priors (level, ceiling) where they were, so the
    # refit differs from the fit only by the claims left out, as the PSIS estimate does
    ranges = forecast.design.priors["ranges"]
    priors = dataclasses.replace(case.priors, level=tuple(ranges["level"]), ceiling=tuple(ranges["ceiling"]))
    try:
        new_case = case.with_(reports=keep, priors=priors)
    except CaseError:
        return None  # e.g. no report left on or before as_of
    post = forecast.idata.posterior
    attrs = forecast.idata.attrs
    tune = int(forecast.idata.sample_stats.attrs.get("tuning_steps", post.sizes["draw"]))
    new = fit(new_case, draws=post.sizes["draw"], tune=tune, chains=post.sizes["chain"],
              seed=int(attrs.get("seed", seed)), target_accept=float(attrs.get("target_accept", 0.99)),
              related=False)
    new.related = forecast.related  # the dropped reports are the primary's: independent fits are unchanged
    n = post.sizes["chain"] * post.sizes["draw"]
    res = simulate(new, draws=n, replicates=5, seed=seed) if case.scenarios else None
    return new, res
