"""Evidence: sources, the claims they make (reports), and the case that holds them.

Every object validates itself on construction and raises :class:`CaseError`
naming the field at fault, so the Python API and the file loaders share one set
of rules.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import numbers
import re
from dataclasses import dataclass, field, replace

from .errors import CaseError, api_entry
from .priors import Priors, is_finite_number  # noqa: F401 (re-exported)

CLAIM_KINDS = ("approximately", "at_least", "up_to", "between", "projection")
TRAJECTORIES = ("saturating", "random_walk")
_GRADE = re.compile(r"^[A-F][1-6]$")
# Larger figures are almost surely typos (an extra zero run) or the wrong unit.
MAX_VALUE = 1e12


def suggest(word: str, options) -> str:
    """Return ' (did you mean "x"?)' for a close match, else ''."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def check_keys(table, allowed, *, entry, file=None):
    """Raise CaseError unless ``table`` is a dict whose keys are all in ``allowed``."""
    if not isinstance(table, dict):
        raise CaseError(f"got {type(table).__name__}", file=file, entry=entry, expected="a table")
    for key in table:
        if key not in allowed:
            raise CaseError(f"unknown key {key!r}{suggest(key, allowed)}", file=file, entry=entry, field=key,
                            expected="one of " + ", ".join(allowed))


def _positive(value, fld: str):
    # numbers.Real admits numpy scalars (a DataFrame's int64 cells); bool is a Real but never a figure
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="a positive number")
    try:
        v = float(value)
    except OverflowError:  # an integer too large for a float
        v = MAX_VALUE * 10 if value > 0 else -math.inf
    if not math.isfinite(v) or v <= 0:
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="a positive, finite number")
    if v > MAX_VALUE:
        raise CaseError(
            f"got {_short(value)}, an implausible magnitude", field=fld, value=value,
            expected=f"a number below {MAX_VALUE:.0e}",
        )
    return v


def _sequence(value, fld: str, expected: str) -> tuple:
    """A list or tuple of entries as a tuple (a lone string or object is a mistake, not a sequence)."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise CaseError(f"got {type(value).__name__} {_short(value)}", field=fld, expected=expected)
    return tuple(value)


def _short(value) -> str:
    """repr of a value, cut to a readable length (a 400-digit integer is not worth printing)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _date(value, fld: str) -> dt.date:
    # pandas' NaT is a datetime that is not equal to itself: an empty cell, not a date
    if isinstance(value, dt.date) and value == value:
        return value.date() if isinstance(value, dt.datetime) else value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CaseError(f"got {value!r}", field=fld, value=value, expected="a date like 2024-10-23")


def _text(value, fld: str, *, required=True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if not isinstance(value, str):
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="text")
    if required and not value.strip():
        raise CaseError("missing", field=fld, expected="a non-empty name")
    return value.strip()


def _range(value, fld: str, of: str) -> tuple[float, float]:
    """A 90% range ``[low, high]`` of positive numbers with low < high."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise CaseError(f"got {value!r}", field=fld, value=value, expected=f"a 90% range [low, high] of {of}")
    lo, hi = (_positive(v, fld) for v in value)
    if lo >= hi:
        raise CaseError(f"low {lo:g} is not below high {hi:g}", field=fld, value=value,
                        expected="[low, high] with low < high")
    return lo, hi


@api_entry
@dataclass(frozen=True)
class Source:
    """Someone who makes claims.

    Parameters
    ----------
    name : str
        How reports refer to the source.
    grade : str, optional
        NATO Admiralty grade, reliability A-F and credibility 1-6 (``"B2"``);
        sets the prior on the source's noise.
    bias : (float, float), optional
        Declared 90% range of ``claimed / true`` for a party with an incentive to
        inflate or deny (``(0.0001, 0.5)`` for a denier). Without it the source's
        bias is partially pooled with the others'.
    rationale : str
        Why the grade and bias were chosen.
    noise : (float, float), optional
        90% range of the source's noise (sd of the log of claimed/true), e.g.
        from its track record in an earlier case (:mod:`forecasting.track_records`);
        replaces the prior its grade would give.
    """

    name: str
    grade: str | None = None
    bias: tuple[float, float] | None = None
    rationale: str = ""
    noise: tuple[float, float] | None = None

    def __post_init__(self):
        object.__setattr__(self, "name", _text(self.name, "name"))
        if self.grade is not None:
            g = self.grade.strip().upper() if isinstance(self.grade, str) else self.grade
            if not isinstance(g, str) or not _GRADE.match(g):
                raise CaseError(
                    f"got {self.grade!r}", field="grade", value=self.grade,
                    expected="an Admiralty grade: reliability A-F then credibility 1-6, like B2",
                )
            object.__setattr__(self, "grade", g)
        if self.bias is not None:
            object.__setattr__(self, "bias", _range(self.bias, "bias", "claimed/true"))
        if self.noise is not None:
            object.__setattr__(self, "noise", _range(self.noise, "noise", "the sd of the log error"))
        object.__setattr__(self, "rationale", _text(self.rationale, "rationale", required=False))


@api_entry
@dataclass(frozen=True)
class Report:
    """One claim about the quantity, as made by a source on a date.

    Parameters
    ----------
    date : datetime.date
        When the claim was made public.
    source : str
        Who made it.
    claim : {"approximately", "at_least", "up_to", "between", "projection"}
        What kind of statement it is.
    value : float, optional
        The figure; for ``between`` use ``low`` and ``high`` instead.
    low, high : float, optional
        The range of a ``between`` claim.
    target : datetime.date, optional
        For ``projection``: the later date the figure is about.
    note : str
        Citation or quote.
    cites : str, optional
        The source whose figure this report repeats (``"South Korea NIS"``): an
        echo, which adds no independent evidence (see :mod:`forecasting.echoes`).
    quantity : str, optional
        The quantity the claim is about, if not the case's primary one (see
        :mod:`forecasting.quantities`).
    """

    date: dt.date
    source: str
    claim: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    target: dt.date | None = None
    note: str = ""
    cites: str | None = None
    quantity: str | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("date", _date(self.date, "date"))
        set_("source", _text(self.source, "source"))
        claim = self.claim
        if not isinstance(claim, str) or claim.strip() not in CLAIM_KINDS:
            raise CaseError(
                f"unknown claim kind {claim!r}{suggest(claim, CLAIM_KINDS)}", field="claim",
                value=claim, expected="one of " + ", ".join(CLAIM_KINDS),
            )
        claim = claim.strip()
        set_("claim", claim)
        set_("note", _text(self.note, "note", required=False))
        if self.cites is not None:
            set_("cites", _text(self.cites, "cites") or None)
        if self.quantity is not None:
            set_("quantity", _text(self.quantity, "quantity") or None)
        if claim == "between":
            for k in ("low", "high"):
                if getattr(self, k) is None:
                    raise CaseError("missing", field=k, expected="a positive number for a `between` claim")
                set_(k, _positive(getattr(self, k), k))
            if self.value is not None:
                raise CaseError("a `between` claim takes low and high, not value", field="value",
                                value=self.value, expected="no value")
            if self.low >= self.high:
                raise CaseError(f"low {self.low:g} is not below high {self.high:g}", field="low",
                                value=self.low, expected="low < high")
        else:
            if self.value is None:
                raise CaseError("missing", field="value", expected=f"a positive number for a `{claim}` claim")
            set_("value", _positive(self.value, "value"))
            for k in ("low", "high"):
                if getattr(self, k) is not None:
                    raise CaseError(f"only `between` claims take {k}", field=k, value=getattr(self, k),
                                    expected="value only")
        if claim == "projection":
            if self.target is None:
                raise CaseError("missing", field="target", expected="the date a projection is about")
            set_("target", _date(self.target, "target"))
            if self.target <= self.date:
                raise CaseError(f"target {self.target} is not after the report date {self.date}",
                                field="target", value=self.target, expected="a date after `date`")
        elif self.target is not None:
            raise CaseError(f"only `projection` claims take a target (this is `{claim}`)", field="target",
                            value=self.target, expected="no target")

    @property
    def about(self) -> dt.date:
        """The date the claim describes (the target for projections)."""
        return self.target if self.claim == "projection" else self.date

    def describe(self) -> str:
        """A short human reading, e.g. 'up to 3,000'."""
        if self.claim == "between":
            return f"between {self.low:,.0f} and {self.high:,.0f}"
        words = {"approximately": "about", "at_least": "at least", "up_to": "up to"}
        if self.claim == "projection":
            return f"{self.value:,.0f} by {self.target}"
        return f"{words[self.claim]} {self.value:,.0f}"


@api_entry
@dataclass(frozen=True)
class Outcome:
    """How a scenario's question resolved (for backtests).

    Parameters
    ----------
    scenario : str
        Name of the case's scenario.
    resolved : bool
        ``True`` if the event happened on or before the scenario's ``resolves_by``.
    date : datetime.date, optional
        When it happened (required if ``resolved``); for a ``False`` resolution, the
        date the question closed (default: its ``resolves_by``).
    note : str
        Citation, and any dispute about the resolution.
    """

    scenario: str
    resolved: bool
    date: dt.date | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "scenario", _text(self.scenario, "scenario"))
        r = self.resolved
        if isinstance(r, str) and r.strip().lower() in ("yes", "no", "true", "false"):
            r = r.strip().lower() in ("yes", "true")
        if not isinstance(r, bool):
            raise CaseError(f"got {r!r}", field="resolved", value=r, expected="true or false (yes or no)")
        object.__setattr__(self, "resolved", r)
        if self.date is not None:
            object.__setattr__(self, "date", _date(self.date, "date"))
        elif r:
            raise CaseError("missing", field="date", expected="the date the event happened")
        object.__setattr__(self, "note", _text(self.note, "note", required=False))


def check_outcomes(outcomes, scenarios) -> tuple:
    """Validate outcomes against the case's scenarios: known names, one each, dates consistent."""
    outcomes = _sequence(outcomes, "outcomes", "a sequence of Outcome")
    by = {s.name: s for s in scenarios}
    seen = set()
    for i, o in enumerate(outcomes):
        where = f"outcomes[{i}]"
        if not isinstance(o, Outcome):
            raise CaseError(f"got {type(o).__name__}", entry=where, expected="an Outcome")
        if o.scenario not in by:
            raise CaseError(f"unknown scenario {o.scenario!r}{suggest(o.scenario, by)}", entry=where,
                            field="scenario", value=o.scenario,
                            expected="one of the [[scenarios]] names: " + (", ".join(by) or "(none declared)"))
        if o.scenario in seen:
            raise CaseError(f"scenario {o.scenario!r} has a second outcome", entry=where, field="scenario",
                            expected="one outcome per scenario")
        seen.add(o.scenario)
        if o.resolved and o.date > by[o.scenario].resolves_by:
            # an event after the question's date resolves it "no"
            raise CaseError(f"date {o.date} is after the scenario's resolves_by {by[o.scenario].resolves_by}",
                            entry=where, field="date", value=o.date,
                            expected="resolved = false for an event after resolves_by, or a date on or before it")
    return outcomes


@api_entry
@dataclass(frozen=True)
class Case:
    """A forecasting problem: the quantity, the period and the evidence.

    Parameters
    ----------
    name, unit : str
        What is being estimated and in which unit (``"troops"``).
    start, horizon : datetime.date
        First and last day of the daily trajectory.
    reports : sequence of Report
        The claims. Reports made after ``as_of`` are kept but ignored by fits.
    sources : sequence of Source, optional
        Declared sources; when given, every report must name one of them.
        Undeclared sources (when none are declared) get default priors.
    as_of : datetime.date, optional
        Fit only on reports made on or before this date.
    trajectory : {"saturating", "random_walk"}
        Prior for how the true level moves.
    priors : Priors
        Plain-terms priors for the trajectory and sources.
    scenarios : sequence of Scenario, optional
        Dated questions linked to the trajectory (see :mod:`forecasting.scenarios`);
        they must form a directed acyclic graph and resolve within the case period.
    outcomes : sequence of Outcome, optional
        How scenarios resolved, for backtests (:mod:`forecasting.backtest`).
    quantity : str
        Name of the primary quantity (what reports without a ``quantity`` are about).
    quantities : sequence of Quantity, optional
        Related quantities (subsets, stages, independent counts); see
        :mod:`forecasting.quantities`.
    """

    name: str
    unit: str
    start: dt.date
    horizon: dt.date
    reports: tuple[Report, ...]
    sources: tuple[Source, ...] = ()
    as_of: dt.date | None = None
    trajectory: str = "saturating"
    priors: Priors = field(default_factory=Priors)
    description: str = ""
    sources_declared: bool = False
    scenarios: tuple = ()
    outcomes: tuple = ()
    quantity: str = "total"
    quantities: tuple = ()

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("name", _text(self.name, "name"))
        set_("unit", _text(self.unit, "unit"))
        set_("description", _text(self.description, "description", required=False))
        set_("start", _date(self.start, "start"))
        set_("horizon", _date(self.horizon, "horizon"))
        if self.horizon <= self.start:
            raise CaseError(f"horizon {self.horizon} is not after start {self.start}", entry="case",
                            field="horizon", expected="a date after `start`")
        if self.as_of is not None:
            set_("as_of", _date(self.as_of, "as_of"))
        if self.trajectory not in TRAJECTORIES:
            raise CaseError(f"unknown trajectory {self.trajectory!r}{suggest(self.trajectory, TRAJECTORIES)}",
                            entry="case", field="trajectory", expected="one of " + ", ".join(TRAJECTORIES))
        reports = _sequence(self.reports, "reports", "a sequence of Report")
        for i, r in enumerate(reports):
            if not isinstance(r, Report):
                raise CaseError(f"got {type(r).__name__}", entry=f"reports[{i}]", expected="a Report")
        if not reports:
            raise CaseError("the case has no reports", entry="reports", expected="at least one report")
        sources = _sequence(self.sources, "sources", "a sequence of Source")
        for i, src in enumerate(sources):
            if not isinstance(src, Source):
                raise CaseError(f"got {type(src).__name__} {_short(src)}", entry=f"sources[{i}]",
                                expected="a Source")
        if not isinstance(self.priors, Priors):
            raise CaseError(f"got {type(self.priors).__name__}", field="priors", expected="a Priors")
        declared = bool(sources) or self.sources_declared
        names = [s.name for s in sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise CaseError(f"source {sorted(dupes)[0]!r} is declared twice", entry="sources", field="name",
                            value=sorted(dupes)[0], expected="each source declared once")
        for i, r in enumerate(reports):
            where = f"reports[{i}]"
            if declared and r.source not in names:
                raise CaseError(f"source {r.source!r} is not declared{suggest(r.source, names)}",
                                entry=where, field="source", expected="one of the [[sources]] names")
            if declared and r.cites is not None and r.cites not in names:
                # a mistyped origin would silently turn an echo into independent evidence
                raise CaseError(f"cited source {r.cites!r} is not declared{suggest(r.cites, names)}",
                                entry=where, field="cites", value=r.cites,
                                expected="one of the [[sources]] names (declare the origin even if it has no reports)")
            if not self.start <= r.date <= self.horizon:
                raise CaseError(f"date {r.date} is outside the case period {self.start} to {self.horizon}",
                                entry=where, field="date", expected="a date between start and horizon")
            if r.target is not None and r.target > self.horizon:
                raise CaseError(f"target {r.target} is after the horizon {self.horizon}", entry=where,
                                field="target", expected="a date on or before horizon (extend the horizon)")
        if not declared:
            seen = dict.fromkeys(r.source for r in reports)
            sources = tuple(Source(n) for n in seen)
        set_("sources", sources)
        set_("reports", reports)
        set_("sources_declared", declared)
        from .scenarios import check_scenarios

        set_("scenarios", check_scenarios(self.scenarios, start=self.start, horizon=self.horizon))
        set_("outcomes", check_outcomes(self.outcomes, self.scenarios))
        from .quantities import _name, check_quantities

        set_("quantity", _name(self.quantity, "quantity"))
        set_("quantities", check_quantities(self))
        if not self.active_reports:
            raise CaseError(f"no report was made on or before as_of {self.as_of}", entry="case",
                            field="as_of", expected=f"a date on or after the first report ({min(r.date for r in reports)})")

    @property
    def active_reports(self) -> tuple[Report, ...]:
        """Reports a fit uses: those made on or before ``as_of``."""
        if self.as_of is None:
            return self.reports
        return tuple(r for r in self.reports if r.date <= self.as_of)

    @property
    def active_sources(self) -> tuple[Source, ...]:
        """Sources with at least one active report, in declaration order."""
        used = {r.source for r in self.active_reports}
        return tuple(s for s in self.sources if s.name in used)

    @property
    def days(self) -> int:
        """Number of days on the trajectory grid (start to horizon inclusive)."""
        return (self.horizon - self.start).days + 1

    def with_(self, **changes) -> Case:
        """Return a copy with fields changed (e.g. ``as_of``, ``reports``)."""
        return replace(self, **changes)

    def add_report(self, report: Report) -> Case:
        """Return a copy with one more report."""
        return replace(self, reports=self.reports + (report,))

    def reports_frame(self):
        """The reports as a pandas DataFrame (one row per report, in order).

        Columns are the report fields plus ``used`` (made on or before ``as_of``)
        and ``echo_of``: the row position of the claim a report repeats, empty for
        reports that are evidence in their own right (see :mod:`forecasting.echoes`).
        """
        import pandas as pd

        from .echoes import echo_origins

        rows = [
            {"date": r.date, "source": r.source, "claim": r.claim, "value": r.value, "low": r.low,
             "high": r.high, "target": r.target, "note": r.note,
             "used": self.as_of is None or r.date <= self.as_of, "quantity": r.quantity or self.quantity,
             "cites": r.cites, "echo_of": o}
            for r, o in zip(self.reports, echo_origins(self.reports))
        ]
        df = pd.DataFrame(rows)
        df["echo_of"] = df["echo_of"].astype("Int64")
        for c in ("date", "target"):
            df[c] = pd.to_datetime(df[c])
        return df


# ------------------------------------------------------------ weak evidence
# Thresholds of :func:`evidence_notes`: below them the evidence is thin enough that
# the analyst must be told, whatever the sampler says.
FEW_REPORTS = 3
CONFLICT_FACTOR = 10.0  # two claims about nearly the same day that cannot both be right within x10
CONFLICT_DAYS = 30
CROWDED_DAY = 50
EXTRAPOLATION_DAYS = 90


def _claim_range(r: Report) -> tuple[float, float]:
    """The range of true values a claim asserts, taken at face value."""
    if r.claim == "between":
        return r.low, r.high
    if r.claim == "at_least":
        return r.value, math.inf
    if r.claim == "up_to":
        return 0.0, r.value
    return r.value, r.value


def _worst_conflict(reports, start) -> tuple[float, int, int]:
    """The largest ``low_i / high_j`` over claims about dates within ``CONFLICT_DAYS``, and its (i, j).

    For each day the smallest ``high`` within the window is found by sliding a per-day
    minimum, so the cost is linear in reports (a pairwise table of 10,000 claims took
    5 s and 2 GB).
    """
    import numpy as np

    lo, hi = (np.array(v, float) for v in zip(*(_claim_range(r) for r in reports)))
    about = np.array([(r.about - start).days for r in reports])
    about -= about.min()
    n_days = int(about.max()) + 1
    day_hi = np.full(n_days, np.inf)
    day_arg = np.full(n_days, len(reports))
    for k in np.lexsort((np.arange(len(reports)), hi))[::-1]:  # smallest high last, first index wins ties
        day_hi[about[k]], day_arg[about[k]] = hi[k], k
    win_hi, win_arg = day_hi.copy(), day_arg.copy()
    for shift in range(1, CONFLICT_DAYS + 1):
        for src, dst in ((slice(shift, None), slice(None, -shift)), (slice(None, -shift), slice(shift, None))):
            h, a = day_hi[src], day_arg[src]
            better = (h < win_hi[dst]) | ((h == win_hi[dst]) & (a < win_arg[dst]))
            win_hi[dst] = np.where(better, h, win_hi[dst])
            win_arg[dst] = np.where(better, a, win_arg[dst])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.nan_to_num(lo / win_hi[about], nan=1.0, posinf=1.0)
    i = int(np.argmax(ratio))
    return float(ratio[i]), i, int(win_arg[about[i]])


def evidence_notes(case: Case) -> list[str]:
    """Plain-words warnings about evidence too thin or too conflicting to trust a narrow answer.

    Each note is a fact about the active reports (those made on or before ``as_of``):

    * fewer than ``FEW_REPORTS`` (3) reports;
    * every report from one source (its bias cannot be told apart from the level);
    * only one-sided bounds (``at_least`` / ``up_to``): no figure pins the level;
    * two claims about dates within ``CONFLICT_DAYS`` (30) of each other whose
      face-value ranges are a factor ``CONFLICT_FACTOR`` (10) or more apart
      (sources with a declared ``bias`` range are left out: the model already
      discounts them);
    * ``CROWDED_DAY`` (50) or more reports on one day (independent only if they are
      not echoes of each other);
    * the latest claim is about a date more than ``EXTRAPOLATION_DAYS`` (90) before
      the horizon (the rest of the trajectory is extrapolated by the prior).

    The fit is not changed by these notes; :meth:`Forecast.diagnostics` carries them
    (``evidence_notes``) and the command line prints them.

    Examples
    --------
    >>> case = Case("t", "troops", "2024-10-01", "2024-12-31", [Report("2024-10-23", "A", "at_least", 2000)])
    >>> evidence_notes(case)[0]
    'only 1 report: the level rests on a single claim'
    """
    import numpy as np

    from .quantities import quantity_of

    # only claims on the primary quantity's scale: a subset's or an independent count's
    # figures are not in conflict with the total for being smaller
    reports = [r for r in case.active_reports
               if (q := quantity_of(case, r)) is None or q.relation == "stage"] or list(case.active_reports)
    n = len(reports)
    notes = []
    if n < FEW_REPORTS:
        notes.append(f"only {n} report{'s' * (n != 1)}: the level rests on "
                     f"{'a single claim' if n == 1 else 'two claims'}")
    sources = {r.source for r in reports}
    if n > 1 and len(sources) == 1:
        notes.append(f"all {n} reports come from one source ({next(iter(sources))}): its bias cannot be told apart "
                     "from the true level, so the level is no more certain than the prior on source bias")
    if all(r.claim in ("at_least", "up_to") for r in reports):
        notes.append("only bounds (at least / up to): no figure pins the level, so within the bounds it is "
                     "set by the priors")
    # a source with a declared bias (a denier, an inflater) is already discounted by the model
    biased = {s.name for s in case.sources if s.bias is not None}
    face = [r for r in reports if r.source not in biased] or [reports[0]]
    factor, i, j = _worst_conflict(face, case.start)
    if factor >= CONFLICT_FACTOR:
        a, b = face[i], face[j]
        notes.append(f"claims conflict by a factor of {factor:,.0f}: {a.describe()} ({a.source}, {a.date}) "
                     f"against {b.describe()} ({b.source}, {b.date}); at most one can be close to the truth")
    days, counts = np.unique([r.date.toordinal() for r in reports], return_counts=True)
    if counts.max() >= CROWDED_DAY:
        day = dt.date.fromordinal(int(days[np.argmax(counts)]))
        notes.append(f"{counts.max()} reports on {day}: they count as independent evidence unless marked as "
                     "echoes (cites), so the level that day may look more certain than it is")
    last = max(r.about for r in reports)
    if (case.horizon - last).days > EXTRAPOLATION_DAYS:
        notes.append(f"the latest claim is about {last}, {(case.horizon - last).days} days before the horizon "
                     f"{case.horizon}: after it the trajectory is extrapolated by the prior")
    return notes


# --------------------------------------------------------- sampler settings
SETTING_LIMITS = {"draws": (1, "at least 1"), "tune": (0, "0 or more"), "chains": (1, "at least 1"),
                  "seed": (0, "0 or more"), "workers": (1, "at least 1")}


def check_settings(*, entry=lambda name: f"fit.{name}", **settings) -> None:
    """Raise CaseError for an impossible sampler setting (``draws=0``, ``target_accept=1.5``).

    Parameters
    ----------
    entry : callable
        Names the entry of a setting in the message: ``fit.draws`` by default; the
        command line passes ``lambda name: "--" + name.replace("_", "-")``.
    **settings
        Any of ``draws``, ``tune``, ``chains``, ``seed``, ``workers`` (whole numbers)
        and ``target_accept`` (strictly between 0 and 1); ``None`` values are skipped.

    Examples
    --------
    >>> check_settings(draws=1000, chains=4, target_accept=0.99)
    >>> check_settings(draws=0)
    Traceback (most recent call last):
    ...
    forecasting.errors.CaseError: fit.draws: got 0; expected a whole number, at least 1
    """
    for name, value in settings.items():
        if value is None:
            continue
        if name == "target_accept":
            if value != "auto" and (not is_finite_number(value) or not 0 < value < 1):
                raise CaseError(f"got {value!r}", entry=entry(name), value=value,
                                expected='"auto" or a probability strictly between 0 and 1, like 0.99')
            continue
        least, words = SETTING_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise CaseError(f"got {value!r}", entry=entry(name), value=value, expected=f"a whole number, {words}")
