"""Plots of a fitted forecast and its scenarios. Plotting code never samples.

Every public function takes computed results (a :class:`~forecasting.Forecast`, a
:class:`~forecasting.ScenarioResult`, a what-if or a tidy table), an optional
``ax`` to draw into, and returns the matplotlib object it drew on. All of them
draw in one style (:func:`style`): the Okabe-Ito colour-blind-safe palette, a
light grid, dates on time axes and the unit on value axes.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import pandas as pd

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
# (Its yellow is left out: it vanishes on white.) Past 7 sources markers turn hollow.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
FAN = "#0072B2"
KIND_MARKER = {"approximately": "o", "at_least": "^", "up_to": "v", "between": "s", "projection": "D"}
ECHO_MARKER = "x"  # an echo of an earlier claim, whatever its kind
# rcParams of the library's plots; read at artist creation, so they apply inside `style()` only
STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "image.cmap": "viridis",
    "savefig.dpi": 120,
    "savefig.facecolor": "white",
}


@contextlib.contextmanager
def style():
    """Context manager: matplotlib settings of the library's plots (Okabe-Ito colours, grid, fonts).

    Every plot function of this module already draws inside it; use it to give
    your own figures the same look.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from forecasting.plotting import style
    >>> with style():
    ...     fig, ax = plt.subplots()
    """
    import matplotlib.pyplot as plt
    from cycler import cycler

    with plt.rc_context({**STYLE, "axes.prop_cycle": cycler(color=PALETTE)}):
        yield


def _styled(func):
    """Run a plot function inside :func:`style` (the signature and docstring stay the function's)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def _dates(ax, axis="x"):
    """Concise date ticks on a time axis."""
    import matplotlib.dates as mdates

    target = ax.xaxis if axis == "x" else ax.yaxis
    locator = mdates.AutoDateLocator()
    target.set_major_locator(locator)
    target.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _new_axes(ax, figsize):
    """``ax`` itself, or the axes of a new constrained-layout figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _source_styles(names):
    """Colour and whether the marker is filled, per source."""
    return {n: (PALETTE[i % len(PALETTE)], (i // len(PALETTE)) % 2 == 0) for i, n in enumerate(names)}


@_styled
def fan_chart(forecast, ax=None, *, quantity=None, log_scale=None, show_ignored=True):
    """Fan chart of the true level (50% and 90% bands) with every report drawn by its kind.

    Point claims are dots, ``at_least``/``up_to`` are arrows from the bound,
    ``between`` claims are bars, and projections are diamonds at their target
    date linked by a dotted line to the day they were made. Reports after
    ``as_of`` (not used by the fit) are drawn hollow in grey; echoes (claims
    repeating an earlier one, :mod:`forecasting.echoes`) as crosses.

    Parameters
    ----------
    forecast : Forecast
        A fitted case (:func:`forecasting.fit` or :meth:`Forecast.load`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.
    log_scale : bool, optional
        Log value axis; default when the claims span more than a factor of 30.
    quantity : str, optional
        A related quantity of the case (:mod:`forecasting.quantities`) to draw,
        with its own reports; default the primary quantity.
    show_ignored : bool
        Draw the reports made after ``as_of`` (grey, hollow).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = fan_chart(forecast)  # doctest: +SKIP
    >>> ax.figure.savefig("trajectory.png")  # doctest: +SKIP
    """
    from matplotlib.lines import Line2D

    from . import quantities

    case = forecast.case
    quantity = quantity or case.quantity
    traj = forecast.trajectory() if quantity == case.quantity else quantities.trajectory(forecast, quantity)
    dates = pd.to_datetime(traj["date"])
    ax = _new_axes(ax, (12, 5.5))
    ax.fill_between(dates, traj.q05, traj.q95, color=FAN, alpha=0.18, lw=0, label="90% interval")
    ax.fill_between(dates, traj.q25, traj.q75, color=FAN, alpha=0.35, lw=0, label="50% interval")
    ax.plot(dates, traj.q50, color=FAN, lw=2, label="median")

    styles = _source_styles([s.name for s in case.sources])
    floor = max(float(traj.q05.min()) / 5, 1e-12)
    values, below = [], []
    from .echoes import echo_origins

    # only this quantity's reports: another quantity's figures are not readings of this trajectory
    shown = [(r, o) for r, o in zip(case.reports, echo_origins(case.reports)) if (r.quantity or case.quantity) == quantity]
    echoes = [o for _, o in shown]
    for r, echo_of in shown:
        used = case.as_of is None or r.date <= case.as_of
        if not used and not show_ignored:
            continue
        col, filled = styles[r.source] if used else ("0.6", False)
        # an echo is drawn but hollow and small: it repeats a claim and carries no weight in the fit
        face = col if filled and echo_of is None else "white"
        size = 7 if echo_of is None else 6
        x = pd.Timestamp(r.about)
        if r.claim != "between" and r.value < floor:
            below.append((x, r, col))  # e.g. a denial coded as "up to 1": drawn on the bottom edge
            continue
        if r.claim == "between":
            ax.vlines(x, r.low, r.high, color=col, lw=3, alpha=0.8)
            ax.plot([x, x], [r.low, r.high], "_", color=col, ms=10)
            values += [r.low, r.high]
            continue
        values.append(r.value)
        if r.claim in ("at_least", "up_to"):
            up = r.claim == "at_least"
            ax.annotate("", xy=(x, r.value * (1.6 if up else 1 / 1.6)), xytext=(x, r.value),
                        arrowprops={"arrowstyle": "-|>", "color": col, "lw": 1.5})
        if r.claim == "projection":
            ax.plot([pd.Timestamp(r.date), x], [r.value, r.value], ":", color=col, lw=1)
            ax.plot(pd.Timestamp(r.date), r.value, "|", color=col, ms=8)
        # an echo gets a cross, which no source's marker (filled or hollow) resembles
        ax.plot(x, r.value, KIND_MARKER[r.claim] if echo_of is None else ECHO_MARKER, mfc=face, mec=col, color=col,
                ms=size, zorder=3)

    lo = min([float(traj.q05.min())] + values)
    hi = max([float(traj.q95.max())] + values)
    if log_scale is None:
        log_scale = hi / max(lo, 1e-12) > 30
    if log_scale:
        ax.set_yscale("log")
        ax.set_ylim(lo / 1.5, hi * 2)
    else:
        ax.set_ylim(0, hi * 1.1)
    for x, r, col in below:
        ax.plot(x, 0.0, "v", color=col, ms=8, clip_on=False, transform=ax.get_xaxis_transform())
        ax.annotate(f"{r.source}: {r.describe()}", (x, 0.02), xycoords=("data", "axes fraction"),
                    rotation=90, fontsize=7, color=col, va="bottom", ha="right")
    if case.as_of is not None:
        ax.axvline(pd.Timestamp(case.as_of), color="0.3", ls="--", lw=1)
        ax.annotate(f"as of {case.as_of}", (pd.Timestamp(case.as_of), 1.0), xycoords=("data", "axes fraction"),
                    ha="right", va="top", fontsize=8, rotation=90, color="0.3")
    ax.set_xlim(dates.iloc[0], dates.iloc[-1])
    _dates(ax)
    ax.set_ylabel(f"{case.unit} (true level{', log scale' if log_scale else ''})")
    ax.set_xlabel("date")
    what = case.unit if not case.quantities else f"{case.unit} ({quantity})"
    ax.set_title(f"{case.name}: how many {what} on each day, {case.start} to {case.horizon}"
                 + (f" (reports up to {case.as_of})" if case.as_of else ""))
    ax.grid(True)

    band = ax.get_legend_handles_labels()
    kinds = sorted({r.claim for r, _ in shown}, key=list(KIND_MARKER).index)
    kind_handles = [Line2D([], [], marker=KIND_MARKER[k], ls="", color="0.3", label=k.replace("_", " "))
                    for k in kinds]
    if any(o is not None for o in echoes):
        kind_handles.append(Line2D([], [], marker=ECHO_MARKER, ls="", color="0.3", ms=6,
                                   label="echo (repeats a claim; no weight)"))
    used_sources = [s.name for s in case.sources if any(r.source == s.name for r, _ in shown)]
    src_handles = [Line2D([], [], marker="o", ls="", color=styles[n][0], mfc=styles[n][0] if styles[n][1] else "white",
                          label=n) for n in used_sources]
    first = ax.legend(band[0] + kind_handles, band[1] + [h.get_label() for h in kind_handles],
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="posterior / claim kind",
                      title_fontsize=8)
    ax.add_artist(first)
    ax.legend(handles=src_handles, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize=7, title="source",
              title_fontsize=8)
    return ax


@_styled
def sources_forest(forecast, ax=None):
    """Forest plot of each source's bias (claimed/true) and noise, medians with 90% intervals.

    Parameters
    ----------
    forecast : Forecast
        A fitted case.
    ax : pair of matplotlib.axes.Axes, optional
        Axes for the bias and the noise panels; default a new figure with both.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The bias and the noise panels.
    """
    import matplotlib.pyplot as plt

    df = forecast.sources()
    ax_was_none = ax is None
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 0.45 * len(df) + 1.8), sharey=True, layout="constrained")
    axes = np.asarray(ax)
    y = np.arange(len(df))[::-1]
    for a, col, label in ((axes[0], "bias", "bias: claimed / true, ratio (log scale; 1 = unbiased)"),
                          (axes[1], "noise", "noise: sd of the log error of one claim")):
        a.hlines(y, df[f"{col}_q05"], df[f"{col}_q95"], color=FAN, lw=2)
        a.plot(df[f"{col}_median"], y, "o", color=FAN)
        a.set_xlabel(label)
        a.grid(True)
    axes[0].set_xscale("log")
    axes[0].axvline(1, color="0.4", ls="--", lw=1)
    axes[0].set_yticks(y, [f"{s} ({g})" if g else s for s, g in zip(df.source, df.grade)])
    axes[0].set_ylabel("source (Admiralty grade)")
    axes[0].set_title("Bias: claimed / true")
    axes[1].set_title("Noise")
    if ax_was_none:
        axes[0].figure.suptitle(f"{forecast.case.name}: each source's bias and noise (dot: median; bar: 90% interval)",
                                x=0.01, ha="left", fontsize=11)
    return axes


def _short(text, n=60):
    return text if len(text) <= n else text[: n - 1] + "…"


@_styled
def scenario_probabilities(result, ax=None):
    """Each scenario's probability by its resolution date, with its 90% interval, grouped by family.

    Parameters
    ----------
    result : ScenarioResult
        From :func:`forecasting.simulate`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = result.table().sort_values(["family", "probability"], kind="stable").reset_index(drop=True)
    ax = _new_axes(ax, (10, 0.5 * max(len(table), 1) + 1.8))
    families = list(dict.fromkeys(table.family))
    y = np.arange(len(table))[::-1]
    for fam_i, fam in enumerate(families):
        rows = table.family == fam
        col = PALETTE[fam_i % len(PALETTE)]
        ax.hlines(y[rows], table.lower[rows], table.upper[rows], color=col, lw=3, alpha=0.6)
        ax.plot(table.probability[rows], y[rows], "o", color=col, label=fam.replace("_", " "))
    labels = [f"{s}  (by {d})" for s, d in zip(table.scenario, table.resolves_by)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability of the event by its resolution date (dot; bar: 90% interval)")
    ax.set_ylabel("scenario (resolution date)")
    ax.set_title(f"P(each event by its resolution date): {result.draws * result.replicates:,} simulations, "
                 f"Monte Carlo se ≤ {result.se_bound:.3f}")
    ax.grid(True, axis="x")
    ax.legend(title="family", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


@_styled
def probability_over_time(result, ax=None):
    """P(event by date) curves with 90% bands, one line per scenario.

    Parameters
    ----------
    result : ScenarioResult
        From :func:`forecasting.simulate`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    curves = result.curves()
    ax = _new_axes(ax, (11, 5))
    for i, (name, c) in enumerate(curves.groupby("scenario", sort=False)):
        col = PALETTE[i % len(PALETTE)]
        d = pd.to_datetime(c.date)
        ax.plot(d, c.probability, color=col, lw=2, label=name, ls="-" if i < len(PALETTE) else "--")
        ax.fill_between(d, c.lower, c.upper, color=col, alpha=0.12, lw=0)
        s = next(s for s in result.scenarios if s.name == name)
        ax.plot(pd.Timestamp(s.resolves_by), c.probability.iloc[(d <= pd.Timestamp(s.resolves_by)).sum() - 1],
                "|", color=col, ms=14, mew=2)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(event has happened by date)")
    ax.set_xlabel("date (tick: the scenario's resolution date)")
    _dates(ax)
    ax.grid(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("P(event has happened by each date) (bands: 90% interval over parameters and trajectory)")
    return ax


@_styled
def conditional_matrix(result, ax=None):
    """Heat map of P(row event | column event), each by its own resolution date.

    Observational conditionals from the simulations (see
    :meth:`ScenarioResult.joint` for their standard errors).

    Parameters
    ----------
    result : ScenarioResult
        From :func:`forecasting.simulate`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    names = [s.name for s in result.scenarios]
    happened = result.happened()
    n = len(names)
    m = np.full((n, n), np.nan)
    for j, b in enumerate(names):
        given = happened[b].to_numpy()
        if given.any():
            for i, a in enumerate(names):
                m[i, j] = happened[a].to_numpy()[given].mean()
    ax = _new_axes(ax, (1.0 * n + 3, 0.8 * n + 2))
    im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
    for i in range(n):
        for j in range(n):
            if np.isfinite(m[i, j]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] < 0.6 else "black")
    ax.set_xticks(range(n), names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("given this event happened by its date")
    ax.set_ylabel("probability of this event by its date")
    ax.figure.colorbar(im, ax=ax, label="conditional probability")
    ax.set_title("P(row event by its date | column event by its date)")
    return ax


@_styled
def tornado(sensitivity_table, ax=None, top=15):
    """Tornado plot: how far each probability moves across each elicited parameter's range.

    Parameters
    ----------
    sensitivity_table : pandas.DataFrame
        From :func:`forecasting.sensitivity`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.
    top : int
        Draw only the ``top`` largest swings.

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = sensitivity_table.sort_values("swing", key=abs, ascending=False, kind="stable").head(top).iloc[::-1]
    ax = _new_axes(ax, (10, 0.4 * max(len(t), 1) + 1.8))
    y = np.arange(len(t))
    ax.barh(y, t.at_low - t.baseline, left=t.baseline, color=PALETTE[0], label="parameter at the low end")
    ax.barh(y, t.at_high - t.baseline, left=t.baseline, color=PALETTE[1], label="parameter at the high end")
    ax.plot(t.baseline, y, "|", color="black", ms=12)
    ax.set_yticks(y, [f"{_short(p, 70)} → {s}" for p, s in zip(t.parameter, t.scenario)], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(scenario by its resolution date) (black tick: baseline)")
    ax.set_ylabel("elicited parameter → scenario it moves")
    ax.set_title(f"Sensitivity: the {len(t)} largest swings (each parameter at the ends of its 90% range)",
                 loc="right")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x")
    return ax


@_styled
def what_if_comparison(what_ifs, ax=None):
    """Baseline and what-if probabilities of every scenario, each with its 90% interval.

    Parameters
    ----------
    what_ifs : WhatIf or sequence of WhatIf
        From :func:`forecasting.what_if`; several what-ifs of one forecast share
        the baseline (the first one's is drawn).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> w = what_if(forecast, reaches=(15000, "2024-12-01"))  # doctest: +SKIP
    >>> what_if_comparison(w)  # doctest: +SKIP
    """
    if not isinstance(what_ifs, (list, tuple)):
        what_ifs = [what_ifs]
    if not what_ifs:
        raise ValueError("what_if_comparison needs at least one what-if")
    tables = [w.table() for w in what_ifs]
    base = tables[0]
    n, k = len(base), len(tables) + 1
    ax = _new_axes(ax, (11, 0.2 * n * k + 1.8))
    y = np.arange(n)[::-1].astype(float)
    step = 0.8 / k
    rows = [("baseline", "baseline", "0.35")] + [
        (f"if {w.condition}" + (f"\n(posterior P = {w.condition_probability:.2f})" if w.condition_probability < 1 else ""),
         "what_if", PALETTE[(i + 1) % len(PALETTE)])
        for i, w in enumerate(what_ifs)]
    for j, (label, tag, col) in enumerate(rows):
        t = base if j == 0 else tables[j - 1]
        off = y + 0.4 - step * (j + 0.5)
        ax.hlines(off, t[f"{tag}_lower"], t[f"{tag}_upper"], color=col, lw=3, alpha=0.55)
        ax.plot(t[tag], off, "o" if j == 0 else "D", color=col, ms=5, label=label)
    ax.set_yticks(y, [f"{s}  (by {d})" for s, d in zip(base.scenario, base.resolves_by)], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(event by its resolution date) (marker; bar: 90% interval)")
    ax.set_ylabel("scenario (resolution date)")
    ax.set_title("What-ifs beside the baseline (same simulations: common random numbers)")
    ax.grid(True, axis="x")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="condition")
    return ax
