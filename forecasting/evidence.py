"""Evidence: sources, the claims they make (reports), and the case that holds them.

Every object validates itself on construction and raises :class:`CaseError`
naming the field at fault, so the Python API and the file loaders share one set
of rules.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, field, replace

from .errors import CaseError
from .priors import Priors

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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="a positive number")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="a positive, finite number")
    if v > MAX_VALUE:
        raise CaseError(
            f"got {value!r}, an implausible magnitude", field=fld, value=value,
            expected=f"a number below {MAX_VALUE:.0e}",
        )
    return v


def _date(value, fld: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
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
    """

    name: str
    grade: str | None = None
    bias: tuple[float, float] | None = None
    rationale: str = ""

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
            b = self.bias
            if not isinstance(b, (list, tuple)) or len(b) != 2:
                raise CaseError(f"got {b!r}", field="bias", value=b,
                                expected="a 90% range [low, high] of claimed/true")
            lo, hi = (_positive(v, "bias") for v in b)
            if lo >= hi:
                raise CaseError(f"low {lo:g} is not below high {hi:g}", field="bias", value=b,
                                expected="[low, high] with low < high")
            object.__setattr__(self, "bias", (lo, hi))
        object.__setattr__(self, "rationale", _text(self.rationale, "rationale", required=False))


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
    """

    date: dt.date
    source: str
    claim: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    target: dt.date | None = None
    note: str = ""

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
        reports = tuple(self.reports)
        for i, r in enumerate(reports):
            if not isinstance(r, Report):
                raise CaseError(f"got {type(r).__name__}", entry=f"reports[{i}]", expected="a Report")
        if not reports:
            raise CaseError("the case has no reports", entry="reports", expected="at least one report")
        sources = tuple(self.sources)
        declared = bool(sources) or self.sources_declared
        names = [s.name for s in sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise CaseError(f"source {sorted(dupes)[0]!r} is declared twice", entry="sources", field="name")
        for i, r in enumerate(reports):
            where = f"reports[{i}]"
            if declared and r.source not in names:
                raise CaseError(f"source {r.source!r} is not declared{suggest(r.source, names)}",
                                entry=where, field="source", expected="one of the [[sources]] names")
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
        """The reports as a pandas DataFrame (one row per report, in order)."""
        import pandas as pd

        rows = [
            {"date": r.date, "source": r.source, "claim": r.claim, "value": r.value, "low": r.low,
             "high": r.high, "target": r.target, "note": r.note,
             "used": self.as_of is None or r.date <= self.as_of}
            for r in self.reports
        ]
        df = pd.DataFrame(rows)
        for c in ("date", "target"):
            df[c] = pd.to_datetime(df[c])
        return df
