"""Plots of evaluation results: reliability diagram, PIT histogram, vintages, influence.

Plotting code never samples: every function reads a result (a :class:`Backtest`,
a tidy frame) and returns matplotlib objects. Colours are Okabe-Ito
(colour-blind safe), as in :mod:`forecasting.plotting`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

# Okabe-Ito, the same order as forecasting.plotting.PALETTE
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
METHOD_COLOUR = {"model": "#0072B2", "no_bias": "#E69F00", "latest": "#009E73", "median": "#CC79A7",
                 "max": "#D55E00"}
METHOD_LABEL = {"model": "model", "no_bias": "model, no source bias", "latest": "latest report",
                "median": "median of reports", "max": "largest claim"}


def _styled(func):
    """Draw inside :func:`forecasting.plotting.style`, the library's common look."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # noqa: ANN002 - a transparent wrapper
        from .plotting import style

        with style():
            return func(*args, **kwargs)

    return wrapper


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


@_styled
def reliability_diagram(backtest, ax=None, *, methods=("model", "no_bias"), bins: int = 5):
    """Observed frequency of scenario events against forecast probability, with 90% intervals.

    Parameters
    ----------
    backtest : Backtest
        Uses ``backtest.scenarios``.
    ax : matplotlib.axes.Axes, optional
    methods : sequence of str
        Which forecasts to draw.
    bins : int
        Equal-width probability bins.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .scores import reliability_table

    ax = _axes(ax, (5.5, 5.2))
    ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="perfectly reliable")
    sc = backtest.scenarios
    for k, m in enumerate(methods):
        g = sc[sc["method"] == m]
        if g.empty:
            continue
        t = reliability_table(g["probability"].to_numpy(), g["outcome"].to_numpy(), bins=bins)
        off = (k - (len(methods) - 1) / 2) * 0.012  # keep overlapping error bars apart
        ax.errorbar(t["mean_probability"] + off, t["observed_frequency"],
                    yerr=[t["observed_frequency"] - t["lower"], t["upper"] - t["observed_frequency"]],
                    fmt="o-", color=METHOD_COLOUR.get(m, PALETTE[k]), capsize=3, ms=6,
                    label=f"{METHOD_LABEL.get(m, m)} ({len(g)} forecasts)")
        for x, y, n in zip(t["mean_probability"], t["observed_frequency"], t["n"]):
            ax.annotate(str(n), (x + off, y), textcoords="offset points", xytext=(6, -10 - 9 * k), fontsize=7,
                        color=METHOD_COLOUR.get(m, PALETTE[k]))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability of the scenario (bin mean)")
    ax.set_ylabel("share that happened (90% Wilson interval)")
    ax.set_title("Reliability of scenario probabilities, all vintages\n(numbers: forecasts per bin; "
                 "vintages of one scenario are not independent)", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)  # clear of the bin counts
    return ax


@_styled
def pit_histogram(backtest, ax=None, *, methods=("model", "no_bias"), against: str = "report", bins: int = 10):
    """Histogram of probability integral transforms of point claims (or true values).

    A calibrated forecast gives a flat histogram; a U shape means intervals too
    narrow, a hump too wide, a slope a bias. The grey band is the central 90%
    range of a bin's count under uniformity (binomial).

    Parameters
    ----------
    backtest : Backtest
    ax : matplotlib.axes.Axes, optional
    methods : sequence of str
    against : {"report", "truth"}
    bins : int

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy.stats import binom

    ax = _axes(ax, (6.5, 4.2))
    df = backtest.scores
    df = df[(df["against"] == against) & df["pit"].notna()]
    edges = np.linspace(0, 1, bins + 1)
    width = 1 / bins / (len(methods) + 0.5)
    n_max = 0
    for k, m in enumerate(methods):
        u = df.loc[df["method"] == m, "pit"].to_numpy()
        if len(u) == 0:
            continue
        counts, _ = np.histogram(u, edges)
        n_max = max(n_max, len(u))
        ax.bar(edges[:-1] + width * (k + 0.25), counts, width=width, align="edge",
               color=METHOD_COLOUR.get(m, PALETTE[k]), label=f"{METHOD_LABEL.get(m, m)} (n={len(u)})")
    if n_max:
        lo, hi = binom.ppf([0.05, 0.95], n_max, 1 / bins)
        ax.axhspan(lo, hi, color="0.85", zorder=0, label="90% range if calibrated")
        ax.axhline(n_max / bins, color="0.4", lw=1, ls="--")
    ax.set_xlim(0, 1)
    ax.set_xlabel("PIT: predictive probability below the later claim" if against == "report"
                  else "PIT: predictive probability below the true level")
    ax.set_ylabel("count (vintage x claim)")
    ax.set_title("PIT histogram of later point claims, all vintages" if against == "report"
                 else "PIT histogram of the true level", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


@_styled
def vintage_plot(backtest, ax=None, *, method: str = "model", truth=None, hindsight=None):
    """Each vintage's nowcast against what happened, and scenario probabilities by vintage.

    Top: at each vintage date, the forecast level on that date (median, 50% and
    90% intervals) with every report; the hindsight fit (all reports) or, for a
    simulated case, the true path as a line. Bottom: each scenario's probability at
    each vintage; a filled marker on the date it happened, a hollow one at
    ``resolves_by`` for a "no".

    Parameters
    ----------
    backtest : Backtest
    ax : matplotlib.axes.Axes or sequence of two, optional
        Where to draw the levels (and the scenario probabilities, for a case with
        outcomes); default: a new figure.
    method : str
    truth : array, optional
        The true daily log level (simulated cases).
    hindsight : pandas.DataFrame, optional
        A trajectory table (``date,q05,q50,q95``) fitted on every report.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    case = backtest.case
    has_scen = len(backtest.scenarios) > 0
    axes = ax
    if axes is None:
        _, axes = plt.subplots(2 if has_scen else 1, 1, figsize=(11, 8 if has_scen else 4.8), sharex=True,
                               layout="constrained", squeeze=False)
        axes = axes[:, 0]
    axes = np.atleast_1d(axes)
    ax = axes[0]
    tr = backtest.trajectories
    tr = tr[(tr["method"] == method) & (tr["date"] == tr["vintage"])]
    x = pd.to_datetime(tr["vintage"])
    col = METHOD_COLOUR.get(method, PALETTE[0])
    ax.vlines(x, tr["q05"], tr["q95"], color=col, lw=2, alpha=0.35, label="90% interval at the vintage")
    ax.vlines(x, tr["q25"], tr["q75"], color=col, lw=5, alpha=0.7, label="50% interval")
    ax.plot(x, tr["q50"], "o", color=col, ms=5, label=f"median ({METHOD_LABEL.get(method, method)})")
    if hindsight is not None:
        h = hindsight
        ax.plot(pd.to_datetime(h["date"]), h["q50"], color="0.2", lw=1.2, label="fit on all reports (median)")
        ax.fill_between(pd.to_datetime(h["date"]), h["q05"], h["q95"], color="0.6", alpha=0.2, lw=0,
                        label="fit on all reports (90%)")
    if truth is not None:
        ax.plot(pd.date_range(case.start, case.horizon), np.exp(truth), color="black", lw=1.5, label="true level")
    # the primary quantity's figures only: a Kursk or casualty count is not a reading of this axis
    pts = [(pd.Timestamp(r.date), r.value) for r in case.reports
           if r.claim == "approximately" and (r.quantity is None or r.quantity == case.quantity)]
    if pts:
        ax.plot(*zip(*pts), "x", color="0.35", ms=6, label="point claims (as reported)")
    ax.set_yscale("log")
    # a vintage that has heard only a denial sits orders of magnitude below the rest:
    # keep the axis on the claims and mark such vintages on the bottom edge
    figs = [v for _, v in pts] or list(tr["q50"])
    lo = max(min(figs) / 10, 1e-9) if figs else 1.0
    off = tr["q50"] < lo
    if off.any():
        ax.plot(x[off], np.full(off.sum(), lo * 1.15), "v", color=col, ms=8, mfc="white",
                label="median below the axis (see backtest_trajectories.csv)")
    hi = max([float(tr["q95"].max())] + figs) * 2 if len(tr) else None
    ax.set_ylim(lo, hi)
    ax.set_ylabel(f"{case.unit} (log scale)")
    ax.set_title(f"{case.name}: forecast at each vintage vs what happened", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3, which="both", axis="y")
    if has_scen:
        ax2 = axes[1]
        sc = backtest.scenarios[backtest.scenarios["method"] == method]
        for k, (name, g) in enumerate(sc.groupby("scenario", sort=False)):
            c = PALETTE[k % len(PALETTE)]
            ls = ("-", "--", ":")[(k // len(PALETTE)) % 3]  # more scenarios than colours: vary the line
            gx = pd.to_datetime(g["vintage"])
            ax2.plot(gx, g["probability"], "o", ls=ls, color=c, ms=3, lw=1.4, label=name)
            o = g.iloc[0]
            when = pd.Timestamp(o["outcome_date"])
            if not o["outcome"]:
                when = when + pd.Timedelta(days=2 * k)  # several "no"s share a date: keep them visible
            ax2.plot(when, float(o["outcome"]), "*" if o["outcome"] else "o", ms=12 if o["outcome"] else 8,
                     color=c, mfc=c if o["outcome"] else "white", mec=c)
        ax2.set_ylim(-0.04, 1.04)
        ax2.set_ylabel("P(event by its resolution date)")
        ax2.set_title("Scenario probabilities at each vintage (open questions only); "
                      "star: happened (date), circle: resolved no", fontsize=10)
        ax2.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax2.grid(alpha=0.3)
    last = axes[-1]
    locator = mdates.AutoDateLocator(maxticks=12)  # month labels of a long backtest would overlap
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    last.set_xlabel("vintage (forecast date)")
    return axes


@_styled
def influence_plot(table, target=None, ax=None, *, top: int = 12):
    """Horizontal bars: how much leaving out each report or source moves one headline number.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`forecasting.influence.influence`.
    target : str, optional
        Which headline (a value of ``table.target``); default the first.
    ax : matplotlib.axes.Axes, optional
    top : int
        Show the ``top`` largest changes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (9, 0.42 * top + 1.6))
    target = target if target is not None else table["target"].iloc[0]
    t = table[table["target"] == target].copy()
    t = t.reindex(t["change"].abs().sort_values(ascending=False).index).head(top).iloc[::-1]
    colours = [PALETTE[0] if k == "report" else PALETTE[1] for k in t["kind"]]
    y = np.arange(len(t))
    ax.barh(y, t["change"], color=colours, hatch=None)
    # say where a number came from when it is not the plain PSIS estimate
    labels = [(s if len(s) < 60 else s[:57] + "...") + ("" if m == "psis" else f"  [{m}, k={k:.2f}]")
              for s, m, k in zip(t["label"], t["method"], t["pareto_k"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    base = float(t["baseline"].iloc[0]) if len(t) else float("nan")
    ax.set_xlabel(f"change in {target} when left out\n(baseline {base:,.0f})" if abs(base) >= 100
                  else f"change in {target} when left out\n(baseline {base:.3g})")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=PALETTE[0], label="one report"), Patch(color=PALETTE[1], label="all of a source")],
              fontsize=8, frameon=False, loc="best")
    ax.set_title("What moved the forecast (PSIS leave-out; refit where Pareto k > 0.7)", fontsize=10)
    return ax
