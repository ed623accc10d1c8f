"""Plots of a fitted forecast. Plotting code never samples: it reads a Forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
# (Its yellow is left out: it vanishes on white.) Past 7 sources markers turn hollow.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
FAN = "#4C72B0"
KIND_MARKER = {"approximately": "o", "at_least": "^", "up_to": "v", "between": "s", "projection": "D"}


def _source_styles(names):
    """Colour and whether the marker is filled, per source."""
    return {n: (PALETTE[i % len(PALETTE)], (i // len(PALETTE)) % 2 == 0) for i, n in enumerate(names)}


def fan_chart(forecast, ax=None, *, log_scale=None, show_ignored=True):
    """Fan chart of the true level (50% and 90% bands) with every report drawn by its kind.

    Point claims are dots, ``at_least``/``up_to`` are arrows from the bound,
    ``between`` claims are bars, and projections are diamonds at their target
    date linked by a dotted line to the day they were made. Reports after
    ``as_of`` (not used by the fit) are drawn hollow in grey.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    case = forecast.case
    traj = forecast.trajectory()
    dates = pd.to_datetime(traj["date"])
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 5.5), layout="constrained")
    ax.fill_between(dates, traj.q05, traj.q95, color=FAN, alpha=0.18, lw=0, label="90% interval")
    ax.fill_between(dates, traj.q25, traj.q75, color=FAN, alpha=0.35, lw=0, label="50% interval")
    ax.plot(dates, traj.q50, color=FAN, lw=2, label="median")

    styles = _source_styles([s.name for s in case.sources])
    floor = max(float(traj.q05.min()) / 5, 1e-12)
    values, below = [], []
    for r in case.reports:
        used = case.as_of is None or r.date <= case.as_of
        if not used and not show_ignored:
            continue
        col, filled = styles[r.source] if used else ("0.6", False)
        face = col if filled else "white"
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
        ax.plot(x, r.value, KIND_MARKER[r.claim], mfc=face, mec=col, color=col, ms=7, zorder=3)

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
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_ylabel(f"{case.unit} (true level)")
    ax.set_xlabel("date")
    ax.set_title(case.name)
    ax.grid(alpha=0.3)

    band = ax.get_legend_handles_labels()
    kinds = sorted({r.claim for r in case.reports}, key=list(KIND_MARKER).index)
    kind_handles = [Line2D([], [], marker=KIND_MARKER[k], ls="", color="0.3", label=k.replace("_", " "))
                    for k in kinds]
    used_sources = [s.name for s in case.sources if any(r.source == s.name for r in case.reports)]
    src_handles = [Line2D([], [], marker="o", ls="", color=styles[n][0], mfc=styles[n][0] if styles[n][1] else "white",
                          label=n) for n in used_sources]
    first = ax.legend(band[0] + kind_handles, band[1] + [h.get_label() for h in kind_handles],
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="posterior / claim kind",
                      title_fontsize=8)
    ax.add_artist(first)
    ax.legend(handles=src_handles, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize=7, title="source",
              title_fontsize=8)
    return ax


def sources_forest(forecast, axes=None):
    """Forest plot of each source's bias (claimed/true) and noise with 90% intervals."""
    import matplotlib.pyplot as plt

    df = forecast.sources()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(df) + 1.5), sharey=True, layout="constrained")
    y = np.arange(len(df))[::-1]
    for ax, col, label in ((axes[0], "bias", "bias: claimed / true (log scale)"),
                           (axes[1], "noise", "noise: sd of log error")):
        ax.hlines(y, df[f"{col}_q05"], df[f"{col}_q95"], color=FAN, lw=2)
        ax.plot(df[f"{col}_median"], y, "o", color=FAN)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_xscale("log")
    axes[0].axvline(1, color="0.4", ls="--", lw=1)
    axes[0].set_yticks(y, [f"{s} ({g})" if g else s for s, g in zip(df.source, df.grade)])
    return axes


def _short(text, n=60):
    return text if len(text) <= n else text[: n - 1] + "…"


def scenario_probabilities(result, ax=None):
    """Each scenario's probability by its resolution date, with its 90% interval, grouped by family."""
    import matplotlib.pyplot as plt

    table = result.table().sort_values(["family", "probability"], kind="stable").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.5 * max(len(table), 1) + 1.8), layout="constrained")
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
    ax.set_title(f"Scenarios: {result.draws:,} simulations, Monte Carlo se ≤ {result.se_bound:.3f}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="family", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def probability_over_time(result, ax=None, unit_dates=None):
    """P(event by date) curves with 90% bands, one line per scenario."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    curves = result.curves()
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 5), layout="constrained")
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
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Probability over time (bands: 90% interval over parameters and trajectory)")
    return ax


def conditional_matrix(result, ax=None):
    """Heat map of P(row event | column event), each by its own resolution date."""
    import matplotlib.pyplot as plt

    names = [s.name for s in result.scenarios]
    happened = result.happened()
    n = len(names)
    m = np.full((n, n), np.nan)
    for j, b in enumerate(names):
        given = happened[b].to_numpy()
        if given.any():
            for i, a in enumerate(names):
                m[i, j] = happened[a].to_numpy()[given].mean()
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 * n + 3, 0.8 * n + 2), layout="constrained")
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
    ax.set_title("P(row | column); the diagonal is 1")
    return ax


def tornado(sensitivity_table, ax=None, top=15):
    """Tornado plot: how far each probability moves across each elicited parameter's range."""
    import matplotlib.pyplot as plt

    t = sensitivity_table.sort_values("swing", key=abs, ascending=False, kind="stable").head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.4 * max(len(t), 1) + 1.8), layout="constrained")
    y = np.arange(len(t))
    ax.barh(y, t.at_low - t.baseline, left=t.baseline, color=PALETTE[0], label="parameter at the low end")
    ax.barh(y, t.at_high - t.baseline, left=t.baseline, color=PALETTE[1], label="parameter at the high end")
    ax.plot(t.baseline, y, "|", color="black", ms=12)
    ax.set_yticks(y, [f"{_short(p, 70)} → {s}" for p, s in zip(t.parameter, t.scenario)], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability of the scenario (black tick: baseline)")
    ax.set_title(f"Sensitivity: the {len(t)} largest swings")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return ax
