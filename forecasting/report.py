"""The forecast report: one self-contained HTML page (``report.html``) and its Markdown twin (``report.md``).

The report is what a reader who never runs the library sees: the questions, the
trajectory, the sources, every scenario probability with its resolution date,
90% interval and Monte Carlo standard error, the what-ifs, the diagnostics (with a
banner when the sampler did not converge), the evidence with its citations and
the model's assumptions.

The builder never samples: it takes computed results (a fitted
:class:`~forecasting.Forecast` and, optionally, the outputs of
:func:`~forecasting.simulate`, :func:`~forecasting.what_if`,
:func:`~forecasting.sensitivity` and :func:`~forecasting.compare`). The HTML page
embeds its figures as base64 data URIs and its style in the page, so it needs no
other file, no network and no JavaScript; the Markdown file refers to the PNG
files beside it.

Examples
--------
>>> import forecasting as fc
>>> from forecasting.report import write_report
>>> forecast = fc.fit(fc.builtin_case(), seed=1)  # doctest: +SKIP
>>> result = fc.simulate(forecast)  # doctest: +SKIP
>>> write_report(forecast, "my_report", scenarios=result)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from pathlib import Path

SECTIONS = {
    "questions": "Questions",
    "trajectory": "Trajectory",
    "sources": "Sources",
    "scenarios": "Scenario probabilities",
    "what-ifs": "What-ifs",
    "sensitivity": "Sensitivity",
    "comparison": "Model comparison",
    "diagnostics": "Diagnostics",
    "evidence": "Evidence",
    "assumptions": "Assumptions and limits",
}
# How the trajectory figures are named on disk (and so in report.md).
FIGURES = {
    "trajectory": "trajectory.png",
    "sources": "sources.png",
    "scenarios": "scenarios.png",
    "curves": "scenario_curves.png",
    "joint": "scenario_joint.png",
    "sensitivity": "sensitivity.png",
    "what-ifs": "whatif.png",
}
ASSUMPTIONS = (
    "Every claim is a noisy reading of the true level on one day (the report's date, or a projection's target "
    "date): log(claim) = log(true level) + the source's log bias + noise. Bounds (at least, up to) and ranges "
    "(between) are censored readings.",
    "Biases are identified only relative to each other: the absolute level rests on the assumption that a "
    "typical source is unbiased (the partially pooled centre). If every source inflates, so does the forecast. "
    "Sources with a declared bias range (e.g. deniers) are exempt from the pooling.",
    "A source's noise prior comes from its NATO Admiralty grade; all sources share a case-wide noise multiplier.",
    "Claims are independent given the truth, except that reports flagged as echoes of an earlier claim carry "
    "no weight.",
    "The true level follows a linear-Gaussian state space on the log scale: a saturating (Gompertz) curve "
    "towards an uncertain ceiling, or a random walk with drift. The trajectory is integrated out exactly by a "
    "Kalman filter and drawn afterwards by forward-filtering backward-sampling.",
    "Scenario events happen at random times with a daily hazard raised by trajectory drivers (level or growth "
    "sustained for some days) and by parent events; every elicited parameter is a 90% range turned into a "
    "LogNormal prior. The hazard priors are not updated by the observed history.",
    "A scenario's 90% interval is the spread, over parameter sets and trajectory draws, of the probability "
    "given those; its Monte Carlo standard error is that of the simulation average, at most 0.5/sqrt(draws).",
    "Full statement, with every prior and its rationale: the documentation pages 'The model' (docs/model.md) "
    "and 'Scenarios' (docs/scenarios.md).",
)
_URL = re.compile(r"https?://[^\s<>\"'|]+")
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;max-width:1180px;
margin:0 auto;padding:0 1.2rem 3rem;color:#1a1a1a;line-height:1.45}
h1{margin-top:1.2rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.86rem}
th,td{border:1px solid #ccc;padding:.25rem .45rem;vertical-align:top;text-align:left}
th{background:#eef4fa}td.num{text-align:right;font-variant-numeric:tabular-nums;min-width:9rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.85rem;color:#444}
nav ol{columns:2;font-size:.95rem}
.banner{border:3px solid #D55E00;background:#fff1e6;padding:.6rem 1rem;margin:1rem 0;font-size:1.05rem}
.banner strong{color:#a33f00;font-size:1.2rem}
.ok{border-left:6px solid #009E73;background:#eefaf5;padding:.4rem .8rem}
.note{font-size:.8rem;color:#333;word-break:break-word}
small{color:#555}td.nowrap{white-space:nowrap}
"""


# --------------------------------------------------------------- formatting
def _pct(p: float, fine: bool = False) -> str:
    """A probability as a percentage, with a decimal near 0 and 1 (or when ``fine``)."""
    if p is None or not math.isfinite(p):
        return "n/a"
    v = 100 * p
    return f"{v:.1f}%" if fine or v < 1 or v > 99 else f"{v:.0f}%"


def _prob(p, lower, upper, se=None) -> str:
    """'43% (90% interval 20%–71%; Monte Carlo se 0.8 points)'; a narrow interval gets a decimal."""
    fine = upper - lower < 0.03
    text = f"{_pct(p, fine)} (90% interval {_pct(lower, fine)}–{_pct(upper, fine)}"
    if se is not None and math.isfinite(se):
        text += f"; Monte Carlo se {100 * se:.1f} points"
    return text + ")"


def _num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _date(d) -> str:
    return str(d)[:10]


# ------------------------------------------------------------------ content
class _Doc:
    """A report as a list of blocks that render to HTML and to Markdown alike."""

    def __init__(self):
        self.blocks = []

    def h2(self, key, title=None):
        self.blocks.append(("h2", key, title or SECTIONS[key]))

    def p(self, text):
        self.blocks.append(("p", text))

    def table(self, header, rows, numeric=()):
        self.blocks.append(("table", list(header), [list(map(str, r)) for r in rows], set(numeric)))

    def img(self, key, caption):
        self.blocks.append(("img", FIGURES.get(key, key), caption))  # a key of FIGURES, or a file name

    def ul(self, items):
        self.blocks.append(("ul", list(items)))

    def banner(self, title, intro, items):
        self.blocks.append(("banner", title, intro, list(items)))

    def ok(self, text):
        self.blocks.append(("ok", text))


def _headline_dates(forecast):
    """The forecast date (as_of, else the last report used) and the horizon."""
    case = forecast.case
    used = case.active_reports
    now = case.as_of or max(r.date for r in used)
    return sorted({now, case.horizon})


def _build(forecast, *, scenarios, sensitivity, what_ifs, comparison, diagnostics, has_figure) -> tuple[str, _Doc]:
    case = forecast.case
    diag = diagnostics if diagnostics is not None else forecast.diagnostics()
    traj = forecast.trajectory()
    doc = _Doc()
    used = case.active_reports
    title = f"Forecast report: {case.name}"
    meta = [
        ("quantity", case.description or case.name),
        ("unit", case.unit),
        ("period", f"{case.start} to {case.horizon} (daily)"),
        ("forecast date", f"{case.as_of} (reports made later are ignored)" if case.as_of
         else f"all reports used (the last one made on {max(r.date for r in used)})"),
        ("evidence", f"{len(used)} of {len(case.reports)} reports, from {len(case.active_sources)} sources"),
        ("trajectory prior", case.trajectory),
        ("sampling", f"{diag.get('sampler') or 'NUTS'}: {diag['chains']} chains, {diag['draws']:,} draws in all, "
                     f"seed {diag.get('seed')}"),
    ]
    doc.table(("", ""), meta)
    if not diag["converged"]:
        doc.banner("NOT CONVERGED: these numbers are not reliable.",
                   "The sampler's diagnostics failed the thresholds (R-hat ≤ "
                   f"{diag['thresholds']['rhat_max']}, bulk ESS ≥ {diag['thresholds']['ess_bulk_min']}, "
                   "no divergences); see the Diagnostics section. What to try:", diag.get("problems", []))
    else:
        doc.ok(f"Sampling converged: R-hat max {diag['rhat_max']:.3f}, bulk ESS min {diag['ess_bulk_min']:.0f}, "
               f"{diag['divergences']} divergences.")

    # questions
    doc.h2("questions")
    dates = _headline_dates(forecast)
    doc.p(f"Trajectory: how many {case.unit} are there on each day from {case.start} to {case.horizon}? "
          "Nobody observes the answer directly: each day's answer is the true level, estimated from the claims. "
          "Headline days (posterior median, 50% and 90% intervals):")
    rows = []
    for d in dates:
        row = traj[traj["date"] == d].iloc[0]
        rows.append((_date(d), _num(row.q50), f"{_num(row.q25)}–{_num(row.q75)}", f"{_num(row.q05)}–{_num(row.q95)}"))
    doc.table(("date", f"median ({case.unit})", "50% interval", "90% interval"), rows, numeric=(1, 2, 3))
    if scenarios is not None and scenarios.scenarios:
        doc.p("Scenarios: dated yes/no questions; each resolves YES if the event happens on or before its "
              "resolution date.")
        doc.table(("scenario", "question", "resolves by", "family", "status"),
                  [(r.scenario, r.question, _date(r.resolves_by), r.family, r.status)
                   for r in scenarios.table().itertuples()])

    # trajectory
    doc.h2("trajectory")
    if has_figure("trajectory"):
        doc.img("trajectory", f"The true level of {case.unit} by day: median, 50% and 90% intervals, with every "
                              "report drawn by its claim kind (arrows: bounds; bars: ranges; diamonds: projections "
                              "at their target date). Reports after the forecast date are grey and hollow.")
    doc.p("The full daily table is trajectory.csv (date, mean, q05, q25, q50, q75, q95).")

    # sources
    doc.h2("sources")
    src = forecast.sources()
    rationale = {s.name: s.rationale for s in case.sources}
    doc.p("Bias is claimed ÷ true (1 = unbiased); noise is the sd of one claim's log error. Medians with 90% "
          "intervals.")
    doc.table(("source", "grade", "declared bias range", "reports", "bias", "noise", "rationale"),
              [(r.source, r.grade or "–", r.declared_bias or "pooled", r.reports,
                f"{r.bias_median:.3g} ({r.bias_q05:.2g}–{r.bias_q95:.2g})",
                f"{r.noise_median:.2f} ({r.noise_q05:.2f}–{r.noise_q95:.2f})", rationale.get(r.source, ""))
               for r in src.itertuples()], numeric=(3,))
    if has_figure("sources"):
        doc.img("sources", "Each source's bias and noise: medians with 90% intervals.")

    # independent quantities: each its own fit
    for name, other in getattr(forecast, "related", {}).items():
        _related_section(doc, name, other, (diag.get("quantities") or {}).get(name), has_figure)

    # scenarios
    if scenarios is not None and scenarios.scenarios:
        doc.h2("scenarios")
        table = scenarios.table()
        doc.p(f"{scenarios.draws:,} parameter and trajectory sets × {scenarios.replicates} event simulations; "
              f"every Monte Carlo standard error is at most {scenarios.se_bound:.4f}. The 90% interval is the "
              "spread over the elicited parameters and the trajectory.")
        if not diag["converged"]:
            doc.p("Warning: the trajectory fit did not converge; these probabilities inherit its unreliability.")
        doc.table(("question", "resolves by", "probability (90% interval; Monte Carlo se)", "family"),
                  [(f"{r.question} [{r.scenario}]", _date(r.resolves_by), _prob(r.probability, r.lower, r.upper, r.se),
                    r.family) for r in table.itertuples()], numeric=(2,))
        if has_figure("scenarios"):
            doc.img("scenarios", "Each scenario's probability by its resolution date (dot) and 90% interval (bar).")
        if has_figure("curves"):
            doc.img("curves", "P(event has happened by each date), with 90% bands; the tick marks each scenario's "
                              "resolution date.")
        if has_figure("joint"):
            doc.img("joint", "P(row event by its date | column event by its date), from the simulations "
                             "(observational; standard errors in scenario_joint.csv).")
        paths = scenarios.paths(top=5)
        last = max(s.resolves_by for s in scenarios.scenarios)
        doc.p(f"Most likely paths: which events happen by their resolution dates (the last is {last}), in the order "
              "they happen. The interval is the Monte Carlo one (± 1.645 se).")
        doc.table(("path", "probability (90% Monte Carlo interval; se)"),
                  [(r.path, _prob(r.probability, max(r.probability - 1.645 * r.se, 0),
                                  min(r.probability + 1.645 * r.se, 1), r.se)) for r in paths.itertuples()],
                  numeric=(1,))

    # what-ifs
    if what_ifs:
        doc.h2("what-ifs")
        ess = diag.get("ess_bulk_min_trajectory") or diag["draws"]
        doc.p("Each what-if re-runs the same simulations (common random numbers) under a condition. Trajectory "
              "statements keep the posterior trajectories where they hold; events are interventions (forced or "
              "prevented as of the forecast date).")
        for w in what_ifs:
            t = w.table()
            p = w.condition_probability
            line = f"If {w.condition}."
            if p < 1:
                se = math.sqrt(p * (1 - p) / max(ess, 1))
                ci = _prob(p, max(p - 1.645 * se, 0), min(p + 1.645 * se, 1), se)
                line += (f" Posterior probability that {w.condition}: {ci} (interval and se: Monte Carlo, from "
                         f"the trajectory's bulk ESS {ess:.0f}).")
            doc.p(line)
            doc.table(("question", "resolves by", "baseline", "what-if", "change"),
                      [(f"{r.question} [{r.scenario}]", _date(r.resolves_by),
                        _prob(r.baseline, r.baseline_lower, r.baseline_upper, r.se_baseline),
                        _prob(r.what_if, r.what_if_lower, r.what_if_upper, r.se_what_if),
                        f"{100 * r.change:+.1f} points") for r in t.itertuples()], numeric=(2, 3, 4))
        if has_figure("what-ifs"):
            doc.img("what-ifs", "Baseline and what-if probabilities with 90% intervals.")

    # sensitivity
    if sensitivity is not None and len(sensitivity):
        doc.h2("sensitivity")
        by = {s.name: s for s in (scenarios.scenarios if scenarios is not None else ())}
        se = f" (Monte Carlo se of each at most {scenarios.se_bound:.4f} at the report's simulation settings)" \
            if scenarios is not None else ""
        doc.p("Each elicited parameter in turn is fixed at the low and at the high end of its 90% range; the "
              f"probabilities are P(scenario by its resolution date){se}. The ten largest swings:")
        top = sensitivity.reindex(sensitivity["swing"].abs().sort_values(ascending=False, kind="stable").index)
        doc.table(("parameter", "range", "scenario (resolves by)", "at low", "baseline", "at high", "swing"),
                  [(r.parameter, f"{r.low:g}–{r.high:g}",
                    f"{r.scenario} ({_date(by[r.scenario].resolves_by)})" if r.scenario in by else r.scenario,
                    _pct(r.at_low), _pct(r.baseline), _pct(r.at_high), f"{100 * r.swing:+.1f} points")
                   for r in top.head(10).itertuples()], numeric=(3, 4, 5, 6))
        if has_figure("sensitivity"):
            doc.img("sensitivity", "Tornado plot: how far each probability moves across each parameter's range.")

    # comparison
    if comparison is not None and len(comparison):
        doc.h2("comparison")
        doc.p("Trajectory priors ranked by expected log predictive density of the claims (PSIS-LOO; higher is "
              "better; se and dse are standard errors; a warning marks unreliable Pareto k).")
        cols = [c for c in ("elpd_loo", "p_loo", "elpd_diff", "se", "dse", "weight", "warning") if c in comparison]
        doc.table(["model"] + cols, [[name] + [_num(float(row[c])) if c != "warning" else str(bool(row[c]))
                                               for c in cols] for name, row in comparison.iterrows()],
                  numeric=range(1, len(cols)))

    # diagnostics
    doc.h2("diagnostics")
    th = diag["thresholds"]
    doc.table(("check", "value", "threshold"), [
        ("R-hat, largest", f"{diag['rhat_max']:.3f} ({diag['rhat_worst']})", f"≤ {th['rhat_max']}"),
        ("bulk ESS, smallest", f"{diag['ess_bulk_min']:.0f} ({diag['ess_bulk_worst']})", f"≥ {th['ess_bulk_min']}"),
        ("bulk ESS, smallest over trajectory days", f"{diag['ess_bulk_min_trajectory']:.0f}", f"≥ {th['ess_bulk_min']}"),
        ("divergent transitions", str(diag["divergences"]), str(th["divergences"])),
        *[(f"{name}: R-hat, largest; bulk ESS, smallest; divergent transitions",
            f"{q['rhat_max']:.3f}; {q['ess_bulk_min']:.0f}; {q['divergences']}",
            f"≤ {th['rhat_max']}; ≥ {th['ess_bulk_min']}; {th['divergences']}")
          for name, q in (diag.get("quantities") or {}).items()],
        ("converged", "yes" if diag["converged"] else "NO", ""),
    ])
    if diag.get("problems"):
        doc.ul(diag["problems"])

    # evidence
    doc.h2("evidence")
    doc.p("Every report in the case, in order. 'about' is the day the claim describes (a projection's target). "
          "Reports after the forecast date are listed but not used; an echo repeats an earlier report's figure and "
          "carries no weight.")
    rows = []
    from .echoes import echo_origins

    origins = echo_origins(case.reports)
    for i, r in enumerate(case.reports):
        if case.as_of is not None and r.date > case.as_of:
            used = "no (after the forecast date)"
        elif origins[i] is not None:
            used = f"echo of #{origins[i]} (no weight)"
        else:
            used = "yes"
        rows.append((i, _date(r.date), r.source, r.claim.replace("_", " "), r.describe(), _date(r.about), used,
                     r.note))
    doc.table(("#", "date", "source", "claim", "value", "about", "used", "note and citation"), rows, numeric=(0,))

    # assumptions
    doc.h2("assumptions")
    doc.ul(ASSUMPTIONS)
    return title, doc


def related_figure(name: str) -> str:
    """File name of an independent quantity's fan chart (``trajectory_<name>.png``)."""
    return f"trajectory_{name}.png"


def figure_files(forecast) -> list[str]:
    """Every figure file a report of this forecast may embed: :data:`FIGURES` and one per independent quantity."""
    return list(FIGURES.values()) + [related_figure(n) for n in getattr(forecast, "related", {})]


def _related_section(doc, name, other, diag, has_figure):
    """A short section on one independent quantity: headline days, its chart, its sources, its convergence."""
    case = other.case
    traj = other.trajectory()
    doc.h2(f"quantity-{name}", f"Independent quantity: {name}")
    what = f" ({case.description})" if case.description else ""
    doc.p(f"{name}{what} is counted separately (unit: {case.unit}). Its {len(case.active_reports)} reports are "
          "fitted as a case of their own, with the same model and sampler settings; scenario drivers may read its "
          "trajectory. Headline days (posterior median, 50% and 90% intervals):")
    rows = []
    for d in _headline_dates(other):
        row = traj[traj["date"] == d].iloc[0]
        rows.append((_date(d), _num(row.q50), f"{_num(row.q25)}–{_num(row.q75)}", f"{_num(row.q05)}–{_num(row.q95)}"))
    doc.table(("date", f"median ({case.unit})", "50% interval", "90% interval"), rows, numeric=(1, 2, 3))
    if diag is not None and not diag["converged"]:
        doc.p(f"Warning: the fit of {name} did not converge: " + "; ".join(diag["problems"]) + ".")
    if has_figure(related_figure(name)):
        doc.img(related_figure(name), f"The true level of {name} ({case.unit}) by day: median, 50% and 90% "
                                      "intervals, with its own reports.")
    doc.table(("source", "reports", "bias", "noise"),
              [(r.source, r.reports, f"{r.bias_median:.3g} ({r.bias_q05:.2g}–{r.bias_q95:.2g})",
                f"{r.noise_median:.2f} ({r.noise_q05:.2f}–{r.noise_q95:.2f})") for r in other.sources().itertuples()],
              numeric=(1,))
    doc.p(f"The full tables are trajectory_{name}.csv and sources_{name}.csv.")


# --------------------------------------------------------------- rendering
def _inline_html(text: str) -> str:
    """Escape text, and turn the URLs in it into links."""
    out, last = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:)")
        out.append(html.escape(text[last:m.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
        last = m.start() + len(url)
    out.append(html.escape(text[last:]))
    return "".join(out)


def _inline_md(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped, one line, URLs as autolinks."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    out, last = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:)\\")
        out.append(text[last:m.start()] + f"<{url}>")
        last = m.start() + len(url)
    return "".join(out) + text[last:]


def _cell_class(header: str, numeric: bool) -> str:
    if numeric:
        return "num"
    if header.startswith("note"):
        return "note"
    return "nowrap" if header in ("date", "resolves by", "about", "grade", "range") else ""


def _to_html(title, doc, images) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
             f"<h1>{html.escape(title)}</h1>"]
    keys = [(b[1], b[2]) for b in doc.blocks if b[0] == "h2"]
    nav_done = False
    for b in doc.blocks:
        kind = b[0]
        if kind == "h2" and not nav_done:
            parts.append('<nav aria-label="contents"><ol>' + "".join(
                f'<li><a href="#{k}">{html.escape(t)}</a></li>' for k, t in keys) + "</ol></nav>")
            nav_done = True
        if kind == "h2":
            parts.append(f'<h2 id="{b[1]}">{html.escape(b[2])}</h2>')
        elif kind == "p":
            parts.append(f"<p>{_inline_html(b[1])}</p>")
        elif kind == "ok":
            parts.append(f'<p class="ok">{_inline_html(b[1])}</p>')
        elif kind == "banner":
            items = "".join(f"<li>{_inline_html(x)}</li>" for x in b[3])
            parts.append(f'<div class="banner" id="not-converged" role="alert"><strong>{html.escape(b[1])}</strong>'
                         f"<p>{_inline_html(b[2])}</p><ul>{items}</ul></div>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline_html(x)}</li>" for x in b[1]) + "</ul>")
        elif kind == "table":
            header, rows, numeric = b[1], b[2], b[3]
            head = "" if not any(header) else "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) \
                + "</tr></thead>"
            body = "".join("<tr>" + "".join(
                f'<td class="{_cell_class(header[j], j in numeric)}">'
                f"{_inline_html(c)}</td>" for j, c in enumerate(r)) + "</tr>" for r in rows)
            parts.append(f"<table>{head}<tbody>{body}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode(images[b[1]]).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b[2], quote=True)}">'
                         f"<figcaption>{html.escape(b[2])} <small>({html.escape(b[1])})</small></figcaption></figure>")
    parts.append("<footer><p><small>Written by forecasting " + html.escape(_version())
                 + ". The tables beside this report (CSV) hold every number at full precision.</small></p></footer>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _to_md(title, doc) -> str:
    out = [f"# {title}", ""]
    for b in doc.blocks:
        kind = b[0]
        if kind == "h2":
            out += [f"## {b[2]}", ""]
        elif kind in ("p", "ok"):
            out += [" ".join(b[1].split()), ""]
        elif kind == "banner":
            out += [f"> **{b[1]}**", ">", f"> {b[2]}", ">"] + [f"> - {x}" for x in b[3]] + [""]
        elif kind == "ul":
            out += [f"- {x}" for x in b[1]] + [""]
        elif kind == "table":
            header, rows = b[1], b[2]
            out.append("| " + " | ".join(_inline_md(h) for h in header) + " |")
            out.append("|" + "|".join("---:" if j in b[3] else "---" for j in range(len(header))) + "|")
            out += ["| " + " | ".join(_inline_md(c) for c in r) + " |" for r in rows]
            out.append("")
        elif kind == "img":
            out += [f"![{b[2]}]({b[1]})", "", f"*{b[2]}*", ""]
    out += [f"*Written by forecasting {_version()}.*", ""]
    return "\n".join(out)


def _version() -> str:
    from .forecast import _version as v

    return v()


# ------------------------------------------------------------------ figures
def report_figures(forecast, *, scenarios=None, sensitivity=None, what_ifs=None, diagnostics=None) -> dict:
    """Draw the report's figures and return them as PNG bytes, keyed by file name.

    Parameters
    ----------
    forecast : Forecast
        The fitted case.
    scenarios : ScenarioResult, optional
        From :func:`forecasting.simulate`; adds ``scenarios.png``, ``scenario_curves.png``
        and ``scenario_joint.png``.
    sensitivity : pandas.DataFrame, optional
        From :func:`forecasting.sensitivity`; adds ``sensitivity.png``.
    what_ifs : sequence of WhatIf, optional
        From :func:`forecasting.what_if`; adds ``whatif.png``.
    diagnostics : dict, optional
        ``forecast.diagnostics()``, if already computed; an unconverged fit gets a
        watermark on its fan chart.

    Returns
    -------
    dict of str -> bytes
        ``trajectory.png`` and ``sources.png`` always (and ``trajectory_<name>.png`` for each
        independent quantity), the others when their input is given.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from . import plotting
    from .outputs import _mark_unconverged

    diag = diagnostics if diagnostics is not None else forecast.diagnostics()
    out = {}

    def png(obj, key):
        fig = np.asarray(obj).ravel()[0].figure
        if not diag["converged"]:
            _mark_unconverged(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        out[FIGURES.get(key, key)] = buf.getvalue()

    png(plotting.fan_chart(forecast), "trajectory")
    for name, other in getattr(forecast, "related", {}).items():
        png(plotting.fan_chart(other), related_figure(name))
    png(plotting.sources_forest(forecast), "sources")
    if scenarios is not None and scenarios.scenarios:
        png(plotting.scenario_probabilities(scenarios), "scenarios")
        png(plotting.probability_over_time(scenarios), "curves")
        png(plotting.conditional_matrix(scenarios), "joint")
        if sensitivity is not None and len(sensitivity):
            png(plotting.tornado(sensitivity), "sensitivity")
    if what_ifs:
        png(plotting.what_if_comparison(list(what_ifs)), "what-ifs")
    return out


# ---------------------------------------------------------------- public API
def render_report(forecast, *, scenarios=None, sensitivity=None, what_ifs=None, comparison=None, diagnostics=None,
                  figures=None) -> tuple[str, str]:
    """Build the report's HTML page and Markdown text (nothing is sampled).

    Parameters
    ----------
    forecast : Forecast
        The fitted case.
    scenarios : ScenarioResult, optional
        From :func:`forecasting.simulate`.
    sensitivity : pandas.DataFrame, optional
        From :func:`forecasting.sensitivity`.
    what_ifs : sequence of WhatIf, optional
        From :func:`forecasting.what_if`.
    comparison : pandas.DataFrame, optional
        From :func:`forecasting.compare`.
    diagnostics : dict, optional
        ``forecast.diagnostics()``, if already computed.
    figures : dict of str -> bytes, optional
        PNG bytes by file name, as :func:`report_figures` returns; drawn if not given.

    Returns
    -------
    html, markdown : str
        The HTML page embeds every figure; the Markdown refers to the PNG files by name.
    """
    diag = diagnostics if diagnostics is not None else forecast.diagnostics()
    what_ifs = list(what_ifs) if what_ifs else []
    if figures is None:
        figures = report_figures(forecast, scenarios=scenarios, sensitivity=sensitivity, what_ifs=what_ifs,
                                 diagnostics=diag)
    title, doc = _build(forecast, scenarios=scenarios, sensitivity=sensitivity, what_ifs=what_ifs,
                        comparison=comparison, diagnostics=diag, has_figure=lambda k: FIGURES.get(k, k) in figures)
    return _to_html(title, doc, figures), _to_md(title, doc)


def write_report(forecast, directory, *, scenarios=None, sensitivity=None, what_ifs=None, comparison=None,
                 diagnostics=None, figures=None) -> tuple[Path, Path]:
    """Write ``report.html``, ``report.md`` and the PNG figures the Markdown refers to.

    Parameters
    ----------
    forecast : Forecast
        The fitted case.
    directory : str or Path
        Where to write (created if missing). PNG files already there with the
        figures' names are replaced.
    scenarios, sensitivity, what_ifs, comparison, diagnostics, figures
        As for :func:`render_report`.

    Returns
    -------
    html_path, markdown_path : Path
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    diag = diagnostics if diagnostics is not None else forecast.diagnostics()
    if figures is None:
        figures = report_figures(forecast, scenarios=scenarios, sensitivity=sensitivity, what_ifs=what_ifs,
                                 diagnostics=diag)
    page, text = render_report(forecast, scenarios=scenarios, sensitivity=sensitivity, what_ifs=what_ifs,
                               comparison=comparison, diagnostics=diag, figures=figures)
    for name, data in figures.items():
        (directory / name).write_bytes(data)
    (directory / "report.html").write_text(page, encoding="utf-8")
    (directory / "report.md").write_text(text, encoding="utf-8")
    return directory / "report.html", directory / "report.md"
