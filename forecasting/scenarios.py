"""Scenarios: dated yes/no questions linked to the trajectory and to each other.

A :class:`Scenario` is a precisely worded question ("will North Korean troops be in
direct combat with Ukrainian forces by 31 March 2025?") whose event happens at a
random time. Its daily hazard is

    h(t) = max(base, drive * active(t)) * prod_{parent p happened before t} m_p

* ``base``: the daily hazard with no driver, from the elicited ``base_rate`` (a 90%
  range of P(event within ``base_period_days``));
* ``drive``: the hazard while the trajectory condition ``driver`` holds (level above
  a threshold, or 30-day growth above a factor, sustained ``for_days``), from the
  elicited ``driver.effect`` (a 90% range of P(event within ``window_days``) once the
  condition holds); a driver without ``effect`` makes the event happen on the first
  day the condition holds (a pure trajectory event such as "reaches 10,000");
* ``m_p``: the multiplier of the hazard once parent ``p`` has happened, from a 90%
  range (above 1: the parent makes the child likelier; below 1: less likely).

Every range becomes a LogNormal whose 5% and 95% quantiles are the range's ends (a
probability ``p`` over ``d`` days is the daily hazard ``-log(1 - p) / d``). Scenarios
form a directed acyclic graph; they are simulated in topological order.

Simulation (:func:`simulate`): ``draws`` parameter sets (default 4,000), each paired
with one posterior trajectory draw (cycled through the forecast's draws), and
``replicates`` event-time simulations per set (default 5; 20,000 in all). An event's
time is the first day its cumulative hazard passes an Exp(1) draw. A probability
is the fraction of simulations in which the event happened by the date; its Monte
Carlo standard error is computed from the ``draws`` independent set means, and is at
most ``0.5 / sqrt(draws)`` = 0.0079 by default whatever the probability.

The 90% interval of a probability shows the uncertainty of the parameters and of
the trajectory: for each parameter set it is the spread of
``P(event by date | parameters, trajectory)``, estimated as the mean over the set's
replicates of ``1 - exp(-H)`` (``H`` the cumulative hazard up to the date given the
replicate's parent event times; exact for events without parents). For events with
parents the replicates' parent timings add a little noise, so the interval is
slightly conservative (wider).

Observed events (``observed`` date on or before the forecast date ``as_of``) are
conditioned on: their time is fixed at that date. Unobserved events cannot happen
before ``as_of`` (their clocks start the day after). The hazard parameters are not
updated by the observed history (a limitation: the elicited priors are used as they
are). Observed dates after ``as_of`` are ignored, so a case can be backtested.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import CaseError, api_entry
from .evidence import _date, _text, check_keys, is_finite_number, suggest
from .priors import Z90, log_normal_from_range

FAMILIES = ("escalation", "military_aid", "alliance_realignment", "diplomatic", "trajectory")
SCENARIO_KEYS = ("name", "question", "family", "resolves_by", "base_rate", "base_period_days", "driver",
                 "parents", "observed", "rationale")
DRIVER_KEYS = ("level_above", "growth_above", "for_days", "effect", "window_days", "quantity")
GROWTH_DAYS = 30
DEFAULT_DRAWS = 4000
DEFAULT_REPLICATES = 5
PRECISION = 0.01  # the largest Monte Carlo standard error a printed probability may have
NEVER = np.iinfo(np.int64).max // 2
MAX_DAILY_HAZARD = 1e3  # P(no event) = exp(-1000) = 0: certain on the day, yet finite for sums
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# ------------------------------------------------------------------ elicitation
def daily_hazard(probability: float, days: float) -> float:
    """The constant daily hazard that gives ``probability`` of the event within ``days``."""
    return -math.log1p(-probability) / days


def hazard_prior(probability_range, days) -> tuple[float, float]:
    """(mu, sigma) of the LogNormal daily hazard whose 5%/95% quantiles give the range.

    Parameters
    ----------
    probability_range : (float, float)
        90% range of P(event within ``days``).
    days : float
        The period the probabilities are about.
    """
    lo, hi = (daily_hazard(p, days) for p in probability_range)
    return log_normal_from_range(lo, hi)


def _range(value, fld, *, probability):
    what = "probabilities strictly between 0 and 1" if probability else "positive numbers"
    expected = f"a 90% range [low, high] of {what}, low <= high"
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise CaseError(f"got {value!r}", field=fld, value=value, expected=expected)
    out = []
    for v in value:
        if not is_finite_number(v) or v <= 0 or (probability and v >= 1):
            raise CaseError(f"got {value!r}", field=fld, value=value, expected=expected)
        out.append(float(v))
    if out[0] > out[1]:
        raise CaseError(f"low {out[0]:g} is above high {out[1]:g}", field=fld, value=value, expected=expected)
    return tuple(out)


def _days(value, fld, *, integer=False):
    expected = "a whole number of days, at least 1" if integer else "a positive number of days"
    if not is_finite_number(value) or value <= 0 or (integer and (value != int(value) or value < 1)):
        raise CaseError(f"got {value!r}", field=fld, value=value, expected=expected)
    return int(value) if integer else float(value)


@api_entry
@dataclass(frozen=True)
class Driver:
    """A trajectory condition that drives a scenario's hazard.

    Exactly one of ``level_above`` and ``growth_above`` is given.

    Parameters
    ----------
    level_above : float, optional
        The condition holds on a day when the true level (in the case's unit) has been
        at or above this value on each of the last ``for_days`` days.
    growth_above : float, optional
        Likewise for the growth factor over 30 days (1.5 = +50% in 30 days).
    for_days : int
        How long the condition must have held (time above the threshold).
    effect : (float, float), optional
        90% range of P(event within ``window_days``) while the condition holds, e.g.
        ``(0.6, 0.95)`` for "likely, 60-95%". Without it the event happens on the first
        day the condition holds (a pure trajectory event).
    window_days : float
        The period ``effect`` is about.
    quantity : str, optional
        A related quantity of the case (:mod:`forecasting.quantities`) whose level
        drives the hazard instead of the primary's, e.g. troops ``in_combat_zone``;
        an independent one (casualties) is read from its own fit, ``Forecast.related``.
        On days where it is not defined (a stage's days beyond the horizon) the
        condition does not hold.
    """

    level_above: float | None = None
    growth_above: float | None = None
    for_days: int = 1
    effect: tuple[float, float] | None = None
    window_days: float = 60.0
    quantity: str | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        given = [k for k in ("level_above", "growth_above") if getattr(self, k) is not None]
        if len(given) != 1:
            raise CaseError(f"got {'both' if given else 'neither'} of level_above and growth_above",
                            field="driver", expected="exactly one of level_above, growth_above")
        k = given[0]
        v = getattr(self, k)
        if not is_finite_number(v) or v <= 0:
            raise CaseError(f"got {v!r}", field=f"driver.{k}", value=v, expected="a positive number")
        set_(k, float(v))
        set_("for_days", _days(self.for_days, "driver.for_days", integer=True))
        set_("window_days", _days(self.window_days, "driver.window_days"))
        if self.effect is not None:
            set_("effect", _range(self.effect, "driver.effect", probability=True))
        if self.quantity is not None:
            from .quantities import _name

            set_("quantity", _name(self.quantity, "driver.quantity"))

    def describe(self) -> str:
        """A short reading, e.g. 'level >= 10,000 for 30 days'."""
        what = (f"level >= {self.level_above:,.0f}" if self.level_above is not None
                else f"{GROWTH_DAYS}-day growth >= x{self.growth_above:g}")
        if self.quantity is not None:
            what = f"{self.quantity} {what}"
        return f"{what} for {self.for_days} day{'s' * (self.for_days != 1)}"

    def active(self, levels: np.ndarray) -> np.ndarray:
        """Boolean (n, days): where the condition holds on each trajectory draw."""
        if self.level_above is not None:
            above = levels >= self.level_above
        else:
            above = np.zeros(levels.shape, bool)
            above[:, GROWTH_DAYS:] = levels[:, GROWTH_DAYS:] >= self.growth_above * levels[:, :-GROWTH_DAYS]
        k = self.for_days
        if k == 1:
            return above
        c = np.concatenate([np.zeros((len(above), 1), np.int64), np.cumsum(above, axis=1)], axis=1)
        out = np.zeros(above.shape, bool)
        out[:, k - 1:] = (c[:, k:] - c[:, :-k]) == k
        return out


@api_entry
@dataclass(frozen=True)
class Scenario:
    """A dated question about an event, with the model of its hazard.

    Parameters
    ----------
    name : str
        Short key (letters, digits, ``_``, ``-``, ``.``) used by ``parents``.
    question : str
        The precisely worded question the event resolves.
    family : str
        ``escalation``, ``military_aid``, ``alliance_realignment``, ``diplomatic``,
        ``trajectory`` or a user-defined word (near-misses of the known ones are
        rejected as typos).
    resolves_by : datetime.date
        The question is "did it happen on or before this date?".
    base_rate : (float, float), optional
        90% range of P(event within ``base_period_days``) with the driver inactive
        and no parent happened ("base rate per quarter about 5%" -> ``(0.02, 0.1)``).
        Required unless a driver is given.
    base_period_days : float
        The period ``base_rate`` is about (default 90, a quarter).
    driver : Driver or dict, optional
        The trajectory condition that raises the hazard.
    parents : dict, optional
        Parent name -> 90% range of the multiplier of the hazard once the parent has
        happened (``{"treaty": (1.5, 4)}``).
    observed : datetime.date, optional
        The date the event was observed to happen (conditioned on, not forecast, when
        on or before the forecast date).
    rationale : str
        Why the priors were chosen.
    """

    name: str
    question: str
    family: str
    resolves_by: dt.date
    base_rate: tuple[float, float] | None = None
    base_period_days: float = 90.0
    driver: Driver | None = None
    parents: dict = field(default_factory=dict)
    observed: dt.date | None = None
    rationale: str = ""

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)
        name = _text(self.name, "name")
        if not _NAME.match(name):
            raise CaseError(f"got {name!r}", field="name", value=name,
                            expected="a short name of letters, digits, _, - or . (like treaty_in_force)")
        set_("name", name)
        set_("question", _text(self.question, "question"))
        set_("family", _family(self.family))
        set_("resolves_by", _date(self.resolves_by, "resolves_by"))
        if self.observed is not None:
            set_("observed", _date(self.observed, "observed"))
        set_("rationale", _text(self.rationale, "rationale", required=False))
        set_("base_period_days", _days(self.base_period_days, "base_period_days"))
        if self.base_rate is not None:
            set_("base_rate", _range(self.base_rate, "base_rate", probability=True))
        driver = self.driver
        if isinstance(driver, dict):
            unknown = [k for k in driver if k not in DRIVER_KEYS]
            if unknown:
                raise CaseError(f"unknown key {unknown[0]!r}{suggest(unknown[0], DRIVER_KEYS)}",
                                field=f"driver.{unknown[0]}", expected="one of " + ", ".join(DRIVER_KEYS))
            driver = Driver(**driver)
        if driver is not None and not isinstance(driver, Driver):
            raise CaseError(f"got {driver!r}", field="driver", expected="a Driver or a table of driver fields")
        set_("driver", driver)
        if self.base_rate is None and driver is None:
            raise CaseError("missing", field="base_rate",
                            expected="a 90% range of P(event within base_period_days), or a driver")
        parents = self.parents if self.parents is not None else {}
        if not isinstance(parents, dict):
            raise CaseError(f"got {parents!r}", field="parents",
                            expected="a table: parent name -> [low, high] range of the hazard multiplier")
        clean = {}
        for p, rng in parents.items():
            if not isinstance(p, str) or not p.strip():
                raise CaseError(f"got {p!r}", field="parents", expected="parent scenario names")
            clean[p.strip()] = _range(rng, f"parents.{p.strip()}", probability=False)
        set_("parents", clean)

    def __hash__(self):
        return hash((self.name, self.question, self.resolves_by))


def _family(value) -> str:
    f = _text(value, "family")
    norm = re.sub(r"[\s\-/]+", "_", f.lower())
    if norm in FAMILIES:
        return norm
    close = difflib.get_close_matches(norm, FAMILIES, n=1, cutoff=0.8)
    if close:  # a near miss of a known family is a typo, not a new family
        raise CaseError(f'unknown family {f!r} (did you mean "{close[0]}"?)', field="family", value=f,
                        expected="one of " + ", ".join(FAMILIES) + " or a clearly different word of your own")
    return f


# -------------------------------------------------------------- reading, graph
def scenario_from_dict(table: dict, *, file=None, entry=None) -> Scenario:
    """Build a scenario from a case file's ``[[scenarios]]`` table (no code is evaluated)."""
    check_keys(table, SCENARIO_KEYS, entry=entry, file=file)
    for key in ("name", "question", "family", "resolves_by"):
        if key not in table:
            raise CaseError("missing", file=file, entry=entry, field=key)
    t = {k: (tuple(v) if isinstance(v, list) else v) for k, v in table.items()}
    if isinstance(t.get("driver"), dict):
        t["driver"] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in t["driver"].items()}
    if isinstance(t.get("parents"), dict):
        t["parents"] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in t["parents"].items()}
    try:
        return Scenario(**t)
    except CaseError as e:
        raise e.located(file=file, entry=entry) from None


def scenarios_from_rows(rows, *, file=None) -> tuple[Scenario, ...]:
    """Build scenarios from a case file's ``[[scenarios]]`` array."""
    if not isinstance(rows, list):
        raise CaseError("must be an array of tables", file=file, entry="scenarios", expected="[[scenarios]] entries")
    return tuple(scenario_from_dict(r, file=file, entry=f"scenarios[{i}]") for i, r in enumerate(rows))


def scenario_to_dict(s: Scenario) -> dict:
    """A scenario as plain data (dates as ISO text), the inverse of :func:`scenario_from_dict`."""
    out = {"name": s.name, "question": s.question, "family": s.family, "resolves_by": s.resolves_by.isoformat()}
    if s.base_rate is not None:
        out["base_rate"] = list(s.base_rate)
    if s.base_period_days != 90.0:
        out["base_period_days"] = s.base_period_days
    if s.driver is not None:
        d = s.driver
        out["driver"] = {k: v for k, v in (("level_above", d.level_above), ("growth_above", d.growth_above),
                                           ("for_days", d.for_days), ("window_days", d.window_days),
                                           ("quantity", d.quantity)) if v is not None}
        if d.effect is not None:
            out["driver"]["effect"] = list(d.effect)
    if s.parents:
        out["parents"] = {p: list(r) for p, r in s.parents.items()}
    if s.observed is not None:
        out["observed"] = s.observed.isoformat()
    if s.rationale:
        out["rationale"] = s.rationale
    return out


def topological_order(scenarios) -> list[int]:
    """Indices of ``scenarios`` with every parent before its children.

    Raises
    ------
    CaseError
        At ``scenarios[i].name`` for a duplicate name, ``scenarios[i].parents`` for an
        unknown parent or a cycle (the message spells the cycle out).
    """
    names = [s.name for s in scenarios]
    where = {}
    for i, n in enumerate(names):
        if n in where:
            raise CaseError(f"scenario {n!r} is defined twice (also scenarios[{where[n]}])", entry=f"scenarios[{i}]",
                            field="name", value=n, expected="unique names")
        where[n] = i
    for i, s in enumerate(scenarios):
        for p in s.parents:
            if p not in where:
                raise CaseError(f"unknown parent {p!r}{suggest(p, names)}", entry=f"scenarios[{i}]", field="parents",
                                value=p, expected="names of other scenarios")
    order, state = [], [0] * len(scenarios)  # 0 new, 1 on the stack, 2 done

    def visit(i, stack):
        state[i] = 1
        for p in sorted(scenarios[i].parents):
            j = where[p]
            if state[j] == 1:
                cycle = stack[stack.index(j):] + [j]
                # read child -> parent chains as parent -> child for the message
                text = " -> ".join(names[k] for k in reversed(cycle))
                raise CaseError(f"the scenarios form a cycle: {text}", entry=f"scenarios[{j}]", field="parents",
                                value=p, expected="a directed acyclic graph (no scenario may be its own ancestor)")
            if state[j] == 0:
                visit(j, stack + [j])
        state[i] = 2
        order.append(i)

    for i in range(len(scenarios)):
        if state[i] == 0:
            visit(i, [i])
    return order


def check_scenarios(scenarios, *, start=None, horizon=None) -> tuple[Scenario, ...]:
    """Validate a set of scenarios (types, graph, dates within the case); return them as a tuple."""
    if scenarios is not None and (isinstance(scenarios, (str, bytes, dict)) or not hasattr(scenarios, "__iter__")):
        raise CaseError(f"got {type(scenarios).__name__}", field="scenarios", expected="a sequence of Scenario")
    scenarios = tuple(scenarios or ())
    for i, s in enumerate(scenarios):
        if not isinstance(s, Scenario):
            raise CaseError(f"got {type(s).__name__}", entry=f"scenarios[{i}]", expected="a Scenario")
        if start is not None and not start <= s.resolves_by <= horizon:
            raise CaseError(f"resolves_by {s.resolves_by} is outside the case period {start} to {horizon}",
                            entry=f"scenarios[{i}]", field="resolves_by",
                            expected="a date between start and horizon (extend the horizon)")
    topological_order(scenarios)
    return scenarios


# ------------------------------------------------------------------ simulation
def _levels_and_dates(forecast):
    levels = np.asarray(forecast.level_draws, dtype=float)
    dates = pd.DatetimeIndex(forecast.design.dates)
    if levels.ndim != 2 or levels.shape[1] != len(dates) or len(levels) == 0:
        raise CaseError(f"level_draws has shape {levels.shape} for {len(dates)} dates",
                        expected="an (n_draws, n_days) array, one column per date")
    return levels, dates


def _quantity_levels(forecast, scenarios) -> dict:
    """Draws of each related quantity a driver names, on the forecast's date grid (NaN where undefined)."""
    names = {s.driver.quantity for s in scenarios if s.driver is not None and s.driver.quantity is not None}
    if not names:
        return {}
    from .quantities import independent_names, level_draws

    grid = pd.DatetimeIndex(forecast.design.dates)
    out = {}
    for q in sorted(names):
        if q in independent_names(forecast.case):
            first = next(s.name for s in scenarios if s.driver is not None and s.driver.quantity == q)
            dates, lv = _related_levels(forecast, q, entry=f"scenario {first!r}")
        else:
            dates, lv = level_draws(forecast, q)
        full = np.full((lv.shape[0], len(grid)), np.nan)
        full[:, grid.get_indexer(dates)] = lv
        out[q] = full
    return out


def _has_reports(case, name) -> bool:
    """Whether the case has an active report (made by ``as_of``) about quantity ``name``."""
    return any(r.quantity == name for r in case.active_reports)


def _related_levels(forecast, name, *, entry):
    """Dates and draws of an independent quantity, from its own fit (``forecast.related``).

    Its posterior is independent of the primary's, so which of its draws goes with
    which primary draw is arbitrary: they are spread over the primary's count
    (:func:`_pick`), which they already have when fitted with the same settings.
    """
    related = getattr(forecast, "related", None) or {}
    if name not in related and not _has_reports(forecast.case, name):
        # no claim about it yet (a backtest vintage before the first casualty report): no
        # evidence that any level was reached, so the condition does not hold
        dates = pd.DatetimeIndex(forecast.design.dates)
        return dates, np.full((len(np.asarray(forecast.level_draws)), len(dates)), np.nan)
    if name not in related:
        raise CaseError(f"the driver names the independent quantity {name!r}, whose fit this forecast does not have "
                        "(it has no reports before the forecast date, or the forecast was not made by "
                        "forecasting.fit)", entry=entry, field="driver.quantity", value=name,
                        expected=f"reports about {name!r}, and the forecast of forecasting.fit (its .related)")
    other = related[name]
    dates = pd.DatetimeIndex(other.design.dates)
    lv = np.asarray(other.level_draws, dtype=float)
    n = len(np.asarray(forecast.level_draws))
    return dates, lv[_pick(len(lv), n)] if len(lv) != n else lv


def _day(date, dates) -> int:
    """Grid index of a date (may lie outside the grid: negative or >= len)."""
    return (pd.Timestamp(_date(date, "date")) - dates[0]).days


@dataclass
class _Run:
    """What one simulation keeps: event times and the per-set conditional probabilities."""

    scenarios: tuple
    dates: pd.DatetimeIndex
    first_day: int
    draws: int
    replicates: int
    times: dict  # name -> (n,) int64 event day (NEVER if not within the grid)
    cond: dict  # name -> its hazard: .at(days) is the (draws, len(days)) P(by day | set)
    status: dict  # name -> forecast / observed / forced / prevented
    active: dict  # name -> (draws, days) cumulative count of its driver's active days (None: no driver)


class _Fixed:
    """An event whose day is fixed (observed, forced or prevented)."""

    def __init__(self, day: int, draws: int):
        self.day, self.draws = day, draws

    def at(self, days) -> np.ndarray:
        return np.broadcast_to((np.asarray(days) >= self.day).astype(np.float32), (self.draws, len(days)))


def _count_below(cum, rows, level):
    """Per simulation: how many days of its nondecreasing row of ``cum`` lie below ``level``.

    A vectorised binary search: log2(days) gathers instead of a (simulations x days)
    comparison.
    """
    n_days = cum.shape[1]
    flat, first = cum.ravel(), rows * n_days
    lo, hi = np.zeros(len(rows), np.int64), np.full(len(rows), n_days, np.int64)
    for _ in range(int(n_days).bit_length()):
        mid = (lo + hi) // 2
        right = flat[first + np.minimum(mid, n_days - 1)] < level
        open_ = lo < hi
        lo = np.where(open_ & right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)
    return lo


class _StepHazard:
    """A cumulative hazard per parameter set, stepped up by its parents' events.

    ``cum`` (draws, days) is the cumulative hazard without parents. Simulation ``i``
    (of parameter set ``i // replicates``) multiplies the daily hazard by ``m[i, k]``
    from the day after parent ``k``'s event day ``parent_days[i, k]``, so its cumulative
    hazard is piecewise ``S_j + M_j (cum(t) - cum(b_j))`` between the sorted parent days
    ``b_j``. Event times and P(by day) follow from a few values per simulation and one
    comparison against ``cum``, with no (simulations x days) hazard in memory: this is
    what makes a sensitivity analysis of dozens of runs take a second.
    """

    def __init__(self, cum, replicates, parent_days=None, m=None):
        self.cum, self.replicates = cum, replicates
        draws, n_days = cum.shape
        n = draws * replicates
        self.group = np.repeat(np.arange(draws), replicates)
        if parent_days is None:
            parent_days, m = np.empty((n, 0), np.int64), np.empty((n, 0))
        order = np.argsort(parent_days, axis=1, kind="stable")
        b = np.clip(np.take_along_axis(parent_days, order, axis=1), -1, n_days - 1)
        self.bounds = np.concatenate([np.full((n, 1), -1), b, np.full((n, 1), n_days - 1)], axis=1)
        self.step = np.concatenate([np.ones((n, 1)), np.cumprod(np.take_along_axis(m, order, axis=1), axis=1)],
                                   axis=1)  # M_j on (b_j, b_j+1]
        self.cum_at_bounds = self._cum(self.group[:, None], self.bounds)
        self.start = np.concatenate([np.zeros((n, 1)), np.cumsum(
            self.step * np.diff(self.cum_at_bounds, axis=1), axis=1)], axis=1)  # S_j: hazard so far at b_j

    def _cum(self, rows, days):
        """cum at (rows, days), with cum(-1) = 0."""
        return np.where(days >= 0, self.cum[rows, np.maximum(days, 0)], 0.0)

    def first_passage(self, e) -> np.ndarray:
        """First day each simulation's cumulative hazard reaches ``e`` (NEVER if none)."""
        draws, n_days = self.cum.shape
        seg = (self.start[:, 1:] < e[:, None]).sum(axis=1)  # segment where it is reached
        hit = seg < self.step.shape[1]
        j = np.minimum(seg, self.step.shape[1] - 1)
        pick = lambda a: np.take_along_axis(a, j[:, None], axis=1)[:, 0]  # noqa: E731
        level = pick(self.cum_at_bounds) + (e - pick(self.start)) / pick(self.step)
        below = _count_below(self.cum, self.group, level)
        end = np.take_along_axis(self.bounds, (j + 1)[:, None], axis=1)[:, 0]
        return np.where(hit, np.minimum(below, end), NEVER).astype(np.int64)

    def at(self, days) -> np.ndarray:
        """(draws, len(days)) float32: mean over the replicates of P(event by each day)."""
        days = np.asarray(days, dtype=np.int64)
        draws = self.cum.shape[0]
        if self.bounds.shape[1] == 2:  # no parents: every replicate has the set's hazard
            return (-np.expm1(-self.cum[:, days])).astype(np.float32)
        # The stepped hazard written without segments: cum(t) + sum_k (M_k - M_k-1) (cum(t) - cum(b_k))+,
        # since cum does not decrease; a few fused operations per parent instead of gathers per day.
        gain = np.diff(self.step, axis=1).reshape(draws, self.replicates, -1, 1)
        base = self.cum_at_bounds[:, 1:-1].reshape(draws, self.replicates, -1, 1)
        out = np.empty((draws, len(days)), np.float32)
        for k in range(0, len(days), 64):  # blocks of days keep memory at (simulations x 64)
            c = self.cum[:, days[k:k + 64]][:, None, :]  # (draws, 1, block): the same for every replicate
            h = np.broadcast_to(c, (draws, self.replicates, c.shape[2])).copy()
            for j in range(gain.shape[2]):
                h += gain[:, :, j] * np.maximum(c - base[:, :, j], 0.0)
            out[:, k:k + 64] = (-np.expm1(-h)).mean(axis=1)
        return out


def _pick(n_have: int, n_want: int) -> np.ndarray:
    """Which trajectory draw each parameter set uses: evenly spread, cycled when short."""
    if n_have >= n_want:
        return (np.arange(n_want) * n_have) // n_want
    return np.arange(n_want) % n_have


def descendants(scenarios, name: str) -> set[str]:
    """Names of ``name`` and every scenario downstream of it."""
    out, grew = {name}, True
    while grew:
        new = {s.name for s in scenarios if out & set(s.parents)} - out
        out |= new
        grew = bool(new)
    return out


def _cumulative_hazard(s, z, traj, pick, quantity_levels, first_day, active_days=None):
    """(draws, days) cumulative hazard of one scenario before its parents' multipliers.

    Also returns the cumulative count of days its driver is active (None without a
    driver), which depends on the trajectory only: a run that reuses another passes it
    back as ``active_days`` instead of recomputing it.
    """
    draws, n_days = traj.shape
    base = np.zeros(draws)
    if s.base_rate is not None:
        mu, sd = hazard_prior(s.base_rate, s.base_period_days)
        base = np.exp(mu + sd * z[:, 0])
    days = np.maximum(np.arange(1, n_days + 1) - first_day, 0).astype(float)  # days counted so far
    quiet = np.minimum(base, MAX_DAILY_HAZARD)  # a certain event stays certain, and finite
    if s.driver is None:
        return quiet[:, None] * days[None, :], None
    if s.driver.effect is None:
        drive = np.full(draws, np.inf)
    else:
        mu, sd = hazard_prior(s.driver.effect, s.driver.window_days)
        drive = np.exp(mu + sd * z[:, 1])
    if active_days is None:
        q = s.driver.quantity
        if q is not None and q not in (quantity_levels or {}):
            raise CaseError(f"the driver names quantity {q!r}, which this forecast does not have",
                            entry=f"scenario {s.name!r}", field="driver.quantity", value=q,
                            expected="a related quantity of the case (forecasting.quantities)")
        on = s.driver.active(traj if q is None else quantity_levels[q][pick])
        on[:, :first_day] = False
        active_days = np.cumsum(on, axis=1, dtype=np.float64)
    driven = np.minimum(np.maximum(base, drive), MAX_DAILY_HAZARD)
    # base on every day counted, plus the driver's excess on its active days
    return quiet[:, None] * days[None, :] + (driven - quiet)[:, None] * active_days, active_days


def _run(scenarios, levels, dates, *, as_of, draws, replicates, seed, fixed=None, forced=None,
         reuse=None, redo=None, quantity_levels=None) -> _Run:
    """Simulate event times; see the module docstring for the model.

    fixed : {(kind, scenario[, parent]): z} fixes a parameter at a standard-Normal quantile.
    forced : {name: day} sets an event's time (NEVER: it does not happen).
    reuse, redo : a run with the same settings whose results are copied for every
        scenario not in ``redo`` (they are unchanged: each scenario has its own stream).
    """
    fixed, forced = fixed or {}, forced or {}
    scenarios = check_scenarios(scenarios)
    n_days = len(dates)
    if draws < 2 or replicates < 1:
        raise CaseError(f"draws={draws}, replicates={replicates}", field="draws",
                        expected="at least 2 draws and 1 replicate")
    for s in scenarios:
        r = _day(s.resolves_by, dates)
        if not 0 <= r < n_days:
            raise CaseError(f"resolves_by {s.resolves_by} is outside the trajectory {dates[0].date()} to "
                            f"{dates[-1].date()}", entry=f"scenario {s.name!r}", field="resolves_by",
                            expected="a date within the forecast's period")
    first_day = 0 if as_of is None else min(max(_day(as_of, dates) + 1, 0), n_days)
    pick = _pick(len(levels), draws)
    traj = levels[pick]  # (draws, days)
    group = np.repeat(np.arange(draws), replicates)
    n = draws * replicates
    times, cond, status, active = {}, {}, {}, {}
    for i in topological_order(scenarios):
        s = scenarios[i]
        if reuse is not None and s.name not in redo:
            times[s.name], cond[s.name], status[s.name] = (reuse.times[s.name], reuse.cond[s.name],
                                                           reuse.status[s.name])
            continue
        rng = np.random.default_rng([seed, zlib.crc32(s.name.encode())])
        parents = sorted(s.parents)
        z = rng.standard_normal((draws, 2 + len(parents)))
        e = rng.standard_exponential(n)
        for col, key in enumerate([("base_rate", s.name), ("driver", s.name)] + [("parent", s.name, p) for p in parents]):
            if key in fixed:
                z[:, col] = fixed[key]
        if s.name in forced or (s.observed is not None and (as_of is None or s.observed <= _date(as_of, "as_of"))):
            day = forced[s.name] if s.name in forced else max(_day(s.observed, dates), -1)
            status[s.name] = ("prevented" if day >= NEVER else "forced") if s.name in forced else "observed"
            t = np.full(n, day, np.int64)
            times[s.name] = t
            cond[s.name] = _Fixed(day, draws)
            continue
        status[s.name] = "forecast"
        same = reuse is not None and reuse.status[s.name] == "forecast" and not (
            {("base_rate", s.name), ("driver", s.name)} & set(fixed))
        if same:  # only its parents' events differ from the reused run
            cum, active[s.name] = reuse.cond[s.name].cum, reuse.active.get(s.name)
        else:
            cum, active[s.name] = _cumulative_hazard(s, z, traj, pick, quantity_levels, first_day,
                                                     None if reuse is None else reuse.active.get(s.name))
        if parents:
            ranges = [log_normal_from_range(*s.parents[p]) for p in parents]
            m = np.column_stack([np.exp(mu + sd * z[:, 2 + k])[group] for k, (mu, sd) in enumerate(ranges)])
            hazard = _StepHazard(cum, replicates, np.column_stack([times[p] for p in parents]), m)
        else:
            hazard = _StepHazard(cum, replicates)
        times[s.name] = hazard.first_passage(e)
        cond[s.name] = hazard
    return _Run(scenarios, dates, first_day, draws, replicates, times, cond, status, active)


def _se(indicator: np.ndarray, draws: int) -> float:
    """Monte Carlo standard error of a mean of 0/1 outcomes clustered by parameter set."""
    g = indicator.reshape(draws, -1).mean(axis=1)
    return float(g.std(ddof=1) / math.sqrt(draws))


class ScenarioResult:
    """Simulated scenarios: probabilities, intervals, joint tables and paths.

    Attributes
    ----------
    scenarios : tuple of Scenario
    as_of : datetime.date or None
        The forecast date: events observed later are ignored and none is forecast earlier.
    draws, replicates : int
        Parameter/trajectory sets and event simulations per set.
    se_bound : float
        Guaranteed upper bound on the Monte Carlo standard error of any marginal or
        joint probability: ``0.5 / sqrt(draws)``.
    """

    def __init__(self, run: _Run, as_of):
        self._run = run
        self.scenarios = run.scenarios
        self.as_of = as_of
        self.draws, self.replicates = run.draws, run.replicates
        self.se_bound = 0.5 / math.sqrt(run.draws)
        self._curves = self._table = None

    def _resolved(self, s) -> np.ndarray:
        return self._run.times[s.name] <= _day(s.resolves_by, self._run.dates)

    def happened(self) -> pd.DataFrame:
        """One row per simulation, one boolean column per scenario: happened by its date."""
        return pd.DataFrame({s.name: self._resolved(s) for s in self.scenarios})

    def table(self) -> pd.DataFrame:
        """``scenario,question,resolves_by,probability,lower,upper,se,family,status``.

        ``lower``/``upper``: 90% interval of the probability over the parameters' and
        trajectory's uncertainty; ``se``: Monte Carlo standard error of ``probability``.
        """
        if self._table is None:  # tables, plots and the report all read it
            self._table = self._all_rows()
        return self._table.copy()

    def probabilities(self) -> pd.Series:
        """P(event by its date) per scenario (``table()``'s ``probability``, without the intervals)."""
        return pd.Series({s.name: float(self._resolved(s).mean()) for s in self.scenarios}, dtype=float)

    def _all_rows(self) -> pd.DataFrame:
        rows = []
        for s in self.scenarios:
            ind = self._resolved(s)
            r = _day(s.resolves_by, self._run.dates)
            lo, hi = np.quantile(self._run.cond[s.name].at([r])[:, 0], [0.05, 0.95])
            rows.append({"scenario": s.name, "question": s.question, "resolves_by": s.resolves_by,
                         "probability": float(ind.mean()), "lower": float(lo), "upper": float(hi),
                         "se": _se(ind, self.draws), "family": s.family, "status": self._run.status[s.name]})
        cols = ["scenario", "question", "resolves_by", "probability", "lower", "upper", "se", "family", "status"]
        return pd.DataFrame(rows, columns=cols)

    def joint(self, precision: float = PRECISION) -> pd.DataFrame:
        """Joint and conditional probabilities of every pair, each by its own resolution date.

        Columns ``a,b,p_a,p_b,p_a_and_b,p_b_given_a,p_a_given_b`` and the Monte Carlo
        standard error of the last three. These are observational conditionals (B among
        the futures where A happened), unlike :func:`what_if`, which intervenes. A
        conditional whose standard error is ``precision`` or more (the conditioning
        event is too rare in the simulations) is left blank (NaN): raise ``draws``.
        """
        occ = {s.name: self._resolved(s) for s in self.scenarios}
        rows = []
        for i, a in enumerate(self.scenarios):
            for b in self.scenarios[i + 1:]:
                A, B = occ[a.name], occ[b.name]
                AB = A & B
                row = {"a": a.name, "b": b.name, "p_a": A.mean(), "p_b": B.mean(), "p_a_and_b": AB.mean(),
                       "se_a_and_b": _se(AB, self.draws)}
                for C, key in ((A, "b_given_a"), (B, "a_given_b")):
                    p, se = self._ratio(AB, C)
                    if not se < precision:
                        p = np.nan
                    row[f"p_{key}"], row[f"se_{key}"] = p, se
                rows.append(row)
        cols = ["a", "b", "p_a", "p_b", "p_a_and_b", "p_b_given_a", "p_a_given_b", "se_a_and_b", "se_b_given_a",
                "se_a_given_b"]
        return pd.DataFrame(rows, columns=cols)

    def _ratio(self, num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
        """Ratio of two clustered means and its delta-method standard error."""
        if not den.any():
            return np.nan, np.nan
        gn = num.reshape(self.draws, -1).mean(axis=1)
        gd = den.reshape(self.draws, -1).mean(axis=1)
        r = gn.mean() / gd.mean()
        se = (gn - r * gd).std(ddof=1) / math.sqrt(self.draws) / gd.mean()
        return float(r), float(se)

    def conditional(self, event: str, given: str) -> float:
        """P(event by its date | given happened by its date), from the simulations."""
        by = {s.name: s for s in self.scenarios}
        for n in (event, given):
            if n not in by:
                raise CaseError(f"unknown scenario {n!r}{suggest(n, by)}", expected="one of " + ", ".join(by))
        A, B = self._resolved(by[given]), self._resolved(by[event])
        return self._ratio(A & B, A)[0]

    def curves(self) -> pd.DataFrame:
        """P(event by date) for every day of the grid: ``date,scenario,probability,lower,upper``."""
        if self._curves is None:  # a table, a plot and a report all read it
            self._curves = self._all_curves()
        return self._curves.copy()

    def _all_curves(self) -> pd.DataFrame:
        out = []
        dates = self._run.dates
        grid = np.arange(len(dates))
        for s in self.scenarios:
            t = np.sort(self._run.times[s.name])
            p = np.searchsorted(t, grid, side="right") / len(t)
            lo, hi = np.quantile(self._run.cond[s.name].at(grid), [0.05, 0.95], axis=0)
            out.append(pd.DataFrame({"date": dates.date, "scenario": s.name, "probability": p, "lower": lo,
                                     "upper": hi}))
        if not out:
            return pd.DataFrame(columns=["date", "scenario", "probability", "lower", "upper"])
        return pd.concat(out, ignore_index=True)

    def paths(self, top: int = 10) -> pd.DataFrame:
        """The most likely paths: which events happen by their dates, in the order they happen.

        Columns ``path`` (``"treaty -> combat"``, or ``"none"``), ``events``,
        ``probability`` and ``se``.
        """
        if not self.scenarios:
            return pd.DataFrame(columns=["path", "events", "probability", "se"])
        names = [s.name for s in self.scenarios]
        occ = np.column_stack([self._resolved(s) for s in self.scenarios])
        t = np.column_stack([self._run.times[n] for n in names]).astype(float)
        t[~occ] = np.inf
        order = np.argsort(t, axis=1, kind="stable")
        labels = np.array([" -> ".join(names[k] for k in order[i][: occ[i].sum()]) or "none"
                           for i in range(len(occ))])
        uniq, counts = np.unique(labels, return_counts=True)
        best = np.argsort(-counts, kind="stable")[:top]
        rows = [{"path": uniq[k], "events": 0 if uniq[k] == "none" else uniq[k].count(" -> ") + 1,
                 "probability": counts[k] / len(labels), "se": _se(labels == uniq[k], self.draws)} for k in best]
        return pd.DataFrame(rows)


def _scenarios_of(forecast, scenarios):
    if scenarios is None:
        scenarios = getattr(forecast.case, "scenarios", ())
    return check_scenarios(scenarios)


def _as_of(forecast, as_of):
    if as_of is None:
        as_of = getattr(forecast.case, "as_of", None)
    return None if as_of is None else _date(as_of, "as_of")


def simulate(forecast, scenarios=None, *, as_of=None, draws: int = DEFAULT_DRAWS,
             replicates: int = DEFAULT_REPLICATES, seed: int = 0) -> ScenarioResult:
    """Simulate scenario events over a forecast's posterior trajectory draws.

    Parameters
    ----------
    forecast : Forecast
        Anything with ``level_draws`` (n_draws, n_days), ``design.dates`` and ``case``.
    scenarios : sequence of Scenario, optional
        Default: the case's ``scenarios`` (none is fine: empty tables).
    as_of : date, optional
        Forecast date. Default: the case's ``as_of``; without one, every event is
        forecast from the first day and every ``observed`` date is conditioned on.
    draws, replicates : int
        Parameter/trajectory sets and event simulations per set. The Monte Carlo
        standard error of every probability is at most ``0.5 / sqrt(draws)``.
    seed : int
        Same seed, same tables. Each scenario draws from its own stream, so adding a
        scenario does not change the others' random numbers.

    Returns
    -------
    ScenarioResult
    """
    levels, dates = _levels_and_dates(forecast)
    as_of = _as_of(forecast, as_of)
    scenarios = _scenarios_of(forecast, scenarios)
    run = _run(scenarios, levels, dates, as_of=as_of, draws=draws, replicates=replicates, seed=seed,
               quantity_levels=_quantity_levels(forecast, scenarios))
    return ScenarioResult(run, as_of)


# -------------------------------------------------------------------- what-ifs
def _value_and_date(value, fld, dates):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise CaseError(f"got {value!r}", field=fld, value=value, expected="(value, date) or a value")
        v, d = value
    else:
        v, d = value, dates[-1].date()
    if not is_finite_number(v) or v <= 0:
        raise CaseError(f"got {v!r}", field=fld, value=v, expected="a positive level in the case's unit")
    day = _day(d, dates)
    if not 0 <= day < len(dates):
        raise CaseError(f"date {d} is outside the trajectory", field=fld, value=d,
                        expected="a date within the forecast's period")
    return float(v), _date(d, fld), day


@dataclass
class WhatIf:
    """A what-if beside its baseline (same seed: common random numbers).

    Attributes
    ----------
    condition : str
        The what-if in words.
    condition_probability : float
        Posterior probability of the trajectory statements (1.0 for event what-ifs).
    baseline, conditioned : ScenarioResult
    """

    condition: str
    condition_probability: float
    baseline: ScenarioResult
    conditioned: ScenarioResult

    def table(self) -> pd.DataFrame:
        """``scenario,question,resolves_by,baseline,baseline_lower,baseline_upper,what_if,what_if_lower,
        what_if_upper,change,se_baseline,se_what_if``."""
        b, w = self.baseline.table(), self.conditioned.table()
        out = b[["scenario", "question", "resolves_by"]].copy()
        for tag, t in (("baseline", b), ("what_if", w)):
            out[tag] = t["probability"].values
            out[f"{tag}_lower"] = t["lower"].values
            out[f"{tag}_upper"] = t["upper"].values
        out["change"] = out["what_if"] - out["baseline"]
        out["se_baseline"] = b["se"].values
        out["se_what_if"] = w["se"].values
        out.attrs["condition"] = self.condition
        out.attrs["condition_probability"] = self.condition_probability
        return out


def what_if(forecast, scenarios=None, *, reaches=None, stays_below=None, event=None, event_on=None,
            prevent=None, as_of=None, draws: int = DEFAULT_DRAWS, replicates: int = DEFAULT_REPLICATES,
            seed: int = 0) -> WhatIf:
    """Probabilities under a what-if, beside the baseline.

    Parameters
    ----------
    reaches : (value, date) or value, optional
        Trajectory statement "the level reaches ``value`` on or before ``date``"
        (default date: the horizon). Keeps only the posterior trajectory draws where it
        holds (conditioning).
    stays_below : (value, date) or value, optional
        "The level stays below ``value`` from the start through ``date``".
    event : str, optional
        Intervention: the event happens on ``event_on`` (default: as of the forecast
        date, i.e. it has already happened). Its children's hazards are multiplied from
        the next day; its own parents are unaffected (unlike the observational
        conditionals of :meth:`ScenarioResult.joint`). Documented direction: a child
        reached from the event only through the direct edge never becomes less likely
        if its multiplier range lies above 1, and never more likely if it lies below 1
        (further down, each edge below 1 reverses the direction; see docs/scenarios.md).
    prevent : str, optional
        Intervention: the event does not happen.
    as_of, draws, replicates, seed
        As for :func:`simulate`.

    Raises
    ------
    CaseError
        No what-if given, an unknown event, or a trajectory statement that no
        posterior draw satisfies.
    """
    levels, dates = _levels_and_dates(forecast)
    as_of = _as_of(forecast, as_of)
    scenarios = _scenarios_of(forecast, scenarios)
    names = [s.name for s in scenarios]
    keep = np.ones(len(levels), bool)
    words, forced = [], {}
    if reaches is not None:
        v, d, day = _value_and_date(reaches, "reaches", dates)
        keep &= levels[:, : day + 1].max(axis=1) >= v
        words.append(f"the level reaches {v:,.0f} by {d}")
    if stays_below is not None:
        v, d, day = _value_and_date(stays_below, "stays_below", dates)
        keep &= levels[:, : day + 1].max(axis=1) < v
        words.append(f"the level stays below {v:,.0f} through {d}")
    first = 0 if as_of is None else _day(as_of, dates) + 1
    for fld, name in (("event", event), ("prevent", prevent)):
        if name is None:
            continue
        if name not in names:
            raise CaseError(f"unknown scenario {name!r}{suggest(name, names)}", field=fld, value=name,
                            expected="one of " + ", ".join(names) if names else "a scenario of the case")
        if fld == "event":
            day = first - 1 if event_on is None else _day(event_on, dates)
            forced[name] = max(day, -1)
            words.append(f"{name} happens" + (f" on {_date(event_on, 'event_on')}" if event_on else ""))
        else:
            forced[name] = NEVER
            words.append(f"{name} does not happen")
    if not words:
        raise CaseError("no what-if given", expected="reaches, stays_below, event or prevent")
    if not keep.any():
        raise CaseError(f"no posterior trajectory draw satisfies: {' and '.join(words)}",
                        field="reaches" if reaches is not None else "stays_below",
                        expected=f"a statement with posterior probability above 1/{len(levels)}")
    kw = {"as_of": as_of, "draws": draws, "replicates": replicates, "seed": seed}
    extra = _quantity_levels(forecast, scenarios)
    base = _run(scenarios, levels, dates, quantity_levels=extra, **kw)
    cond = _run(scenarios, levels[keep], dates, forced=forced, quantity_levels={q: v[keep] for q, v in extra.items()},
                **kw)
    return WhatIf(" and ".join(words), float(keep.mean()), ScenarioResult(base, as_of), ScenarioResult(cond, as_of))


# ----------------------------------------------------------------- sensitivity
def elicited_parameters(scenarios) -> list[dict]:
    """Every elicited range: ``key`` (for the simulator), ``parameter`` (words), ``low``, ``high``."""
    out = []
    for s in scenarios:
        if s.base_rate is not None:
            out.append({"key": ("base_rate", s.name), "owner": s.name,
                        "parameter": f"{s.name}: base rate (P within {s.base_period_days:g} days)",
                        "low": s.base_rate[0], "high": s.base_rate[1]})
        if s.driver is not None and s.driver.effect is not None:
            out.append({"key": ("driver", s.name), "owner": s.name,
                        "parameter": f"{s.name}: P within {s.driver.window_days:g} days once {s.driver.describe()}",
                        "low": s.driver.effect[0], "high": s.driver.effect[1]})
        for p in sorted(s.parents):
            out.append({"key": ("parent", s.name, p), "owner": s.name,
                        "parameter": f"{s.name}: hazard multiplier once {p} happened",
                        "low": s.parents[p][0], "high": s.parents[p][1]})
    return out


def sensitivity(forecast, scenarios=None, *, as_of=None, draws: int = DEFAULT_DRAWS,
                replicates: int = DEFAULT_REPLICATES, seed: int = 0) -> pd.DataFrame:
    """How much each probability moves across each elicited parameter's 90% range.

    Each parameter in turn is fixed at the low and at the high end of its range (its
    5% and 95% quantiles) while every other parameter keeps its prior; the same seed
    is used throughout, so the differences carry little Monte Carlo noise.

    Returns
    -------
    pandas.DataFrame
        ``parameter,owner,low,high,scenario,baseline,at_low,at_high,swing`` with one
        row per parameter and affected scenario (the parameter's owner and its
        descendants; the others cannot move) (``swing = at_high - at_low``), sorted
        by scenario and decreasing ``|swing|``: the bars of a tornado plot.
    """
    levels, dates = _levels_and_dates(forecast)
    as_of = _as_of(forecast, as_of)
    scenarios = _scenarios_of(forecast, scenarios)
    kw = {"as_of": as_of, "draws": draws, "replicates": replicates, "seed": seed,
          "quantity_levels": _quantity_levels(forecast, scenarios)}
    cols = ["parameter", "owner", "low", "high", "scenario", "baseline", "at_low", "at_high", "swing"]
    base_run = _run(scenarios, levels, dates, **kw)
    base = ScenarioResult(base_run, as_of).probabilities()
    rows = []
    for par in elicited_parameters(scenarios):
        redo = descendants(scenarios, par["owner"])
        ends = [ScenarioResult(_run(scenarios, levels, dates, fixed={par["key"]: z}, reuse=base_run, redo=redo,
                                    **kw), as_of).probabilities() for z in (-Z90, Z90)]
        for s in scenarios:
            if s.name not in redo:
                continue  # upstream or unrelated: unchanged by construction
            rows.append({"parameter": par["parameter"], "owner": par["owner"], "low": par["low"], "high": par["high"],
                         "scenario": s.name, "baseline": base[s.name], "at_low": ends[0][s.name],
                         "at_high": ends[1][s.name], "swing": ends[1][s.name] - ends[0][s.name]})
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        order = {s.name: i for i, s in enumerate(scenarios)}
        out = out.assign(_o=out["scenario"].map(order), _a=-out["swing"].abs()).sort_values(
            ["_o", "_a"], kind="stable").drop(columns=["_o", "_a"]).reset_index(drop=True)
    return out
