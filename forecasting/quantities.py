"""Related quantities: one case, several things counted (total, in the combat zone, trained, ...).

A case counts one *primary* quantity (``[case] quantity``, default ``"total"``);
reports name the quantity they are about (``quantity = "in_combat_zone"``, none
means the primary). Each other quantity is declared with its relation to the
primary:

``subset``
    A share of it: ``in_combat_zone = share * deployed_total``, with ``share``
    uncertain (a 90% range, ``share = [0.3, 0.9]``). A report about the subset
    is a reading of the primary's log level plus ``log(share)``; the share is a
    parameter of the model, one per subset quantity, with a Normal prior on its
    log whose 5%/95% quantiles are the range's ends. An optional ``lag`` (days,
    default 0) says the subset trails the primary: ``in_combat_zone(t) = share *
    deployed_total(t - lag)`` (troops reach the combat zone ``lag`` days after
    they are sent), so a subset report on day t reads the primary on day t - lag.
``stage``
    An earlier stage of it, ``lag`` days ahead: ``trained(t) = deployed(t + lag)``
    (troops in training on day t are the ones deployed ``lag`` days later). A
    report about the stage on day t is a reading of the primary on day t + lag.
``independent``
    Counted separately (casualties): its reports are left out of this case's
    model and fitted as a case of their own (:func:`independent_cases`).

A scenario's driver may name any of them (``driver = { quantity =
"in_combat_zone", level_above = 5000, ... }``): its hazard then follows that
quantity's derived trajectory, or, for an independent quantity, the draws of its
own fit (``Forecast.related``).

Only one level is allowed (a quantity's ``of`` is the primary), which keeps each
report a reading of the one trajectory the model integrates out, plus at most one
share. Each quantity's trajectory is derived from the primary's draws
(:func:`level_draws`, :func:`trajectory`): plus ``log(share)`` for a subset,
shifted by ``lag`` for a stage (its last ``lag`` days are then beyond the
horizon and left out) and for a lagged subset (its first ``lag`` days are then
before the start and left out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import CaseError

RELATIONS = ("subset", "stage", "independent")
PRIMARY = "total"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _name(value, fld):
    if not isinstance(value, str) or not value.strip():
        raise CaseError(f"got {value!r}", field=fld, value=value, expected="a name like in_combat_zone")
    v = value.strip()
    if not set(v) <= _NAME_CHARS or v[0].isdigit():
        raise CaseError(f"got {value!r}", field=fld, value=value,
                        expected="lower-case letters, digits and underscores (it names output files), like in_combat_zone")
    return v


@dataclass(frozen=True)
class Quantity:
    """A quantity related to the case's primary one.

    Parameters
    ----------
    name : str
        How reports refer to it (lower case, digits, underscores).
    relation : {"subset", "stage", "independent"}
        See the module docstring.
    of : str, optional
        The quantity it relates to: the case's primary quantity (the default).
    share : (float, float), optional
        ``subset`` only, required: 90% range of this quantity / the primary, each in (0, 1].
    lag : int
        ``stage``, required: days from this stage to the primary. ``subset``,
        optional (default 0, at least 0): days from the primary to this subset.
    unit : str
        ``independent`` only: its unit, if not the case's.
    description : str
        What is counted.
    """

    name: str
    relation: str
    of: str | None = None
    share: tuple[float, float] | None = None
    lag: int | None = None
    unit: str = ""
    description: str = ""

    def __post_init__(self):
        from .evidence import _positive, _text, suggest

        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("name", _name(self.name, "name"))
        if self.relation not in RELATIONS:
            raise CaseError(f"unknown relation {self.relation!r}{suggest(self.relation, RELATIONS)}",
                            field="relation", value=self.relation, expected="one of " + ", ".join(RELATIONS))
        if self.of is not None:
            set_("of", _name(self.of, "of"))
        set_("unit", _text(self.unit, "unit", required=False))
        set_("description", _text(self.description, "description", required=False))
        if self.relation == "subset":
            b = self.share
            if b is None:
                raise CaseError("missing", field="share", expected="a 90% range [low, high] of this quantity / its parent")
            if not isinstance(b, (list, tuple)) or len(b) != 2:
                raise CaseError(f"got {b!r}", field="share", value=b, expected="a 90% range [low, high]")
            lo, hi = (_positive(v, "share") for v in b)
            if not lo < hi <= 1:
                raise CaseError(f"got [{lo:g}, {hi:g}]", field="share", value=b,
                                expected="[low, high] with 0 < low < high <= 1 (a subset is at most the whole)")
            set_("share", (lo, hi))
        elif self.share is not None:
            raise CaseError(f"only `subset` quantities take a share (this is `{self.relation}`)", field="share",
                            value=self.share, expected="no share")
        if self.relation == "stage" and self.lag is None:
            raise CaseError("missing", field="lag", expected="the days from this stage to its parent, like 30")
        if self.relation in ("stage", "subset") and self.lag is not None:
            if isinstance(self.lag, bool) or not isinstance(self.lag, int):
                raise CaseError(f"got {self.lag!r}", field="lag", value=self.lag, expected="a whole number of days")
            if self.relation == "subset" and self.lag < 0:
                raise CaseError(f"got {self.lag}", field="lag", value=self.lag,
                                expected="0 or more days from the primary to this subset (an earlier count is a `stage`)")
        elif self.lag is not None:
            raise CaseError(f"only `stage` and `subset` quantities take a lag (this is `{self.relation}`)",
                            field="lag", value=self.lag, expected="no lag")
        if self.unit and self.relation != "independent":
            raise CaseError(f"only `independent` quantities take their own unit (this is `{self.relation}`)",
                            field="unit", value=self.unit, expected="no unit: it shares the primary's")


def check_quantities(case) -> tuple[Quantity, ...]:
    """Validate a case's quantities and each report's ``quantity`` (called by :class:`Case`)."""
    from .evidence import suggest

    primary = case.quantity
    quantities = tuple(case.quantities)
    names = [primary]
    for i, q in enumerate(quantities):
        where = f"quantities[{i}]"
        if not isinstance(q, Quantity):
            raise CaseError(f"got {type(q).__name__}", entry=where, expected="a Quantity")
        if q.name in names:
            raise CaseError(f"quantity {q.name!r} is declared twice (or is the primary)", entry=where, field="name",
                            value=q.name, expected="a new name")
        if q.relation != "independent" and (q.of or primary) != primary:
            raise CaseError(f"{q.relation} of {q.of!r}, which is not the primary quantity {primary!r}", entry=where,
                            field="of", value=q.of,
                            expected=f"{primary!r} (one level of relations: every quantity relates to the primary)")
        if q.lag is not None and abs(q.lag) >= case.days:
            raise CaseError(f"lag {q.lag} days is longer than the case ({case.days} days)", entry=where, field="lag",
                            value=q.lag, expected="a lag shorter than the case period")
        names.append(q.name)
    by_name = {q.name: q for q in quantities}
    for i, sc in enumerate(case.scenarios):  # any declared quantity: an independent one reads its own fit
        q = sc.driver.quantity if sc.driver is not None else None
        if q is not None and q not in names:
            raise CaseError(f"the driver names quantity {q!r}, which is not declared{suggest(q, names)}",
                            entry=f"scenarios[{i}]", field="driver.quantity", value=q,
                            expected="the primary quantity or one of the [[quantities]] names: " + ", ".join(names))
    for i, r in enumerate(case.reports):
        if r.quantity is None or r.quantity == primary:
            continue
        where = f"reports[{i}]"
        q = by_name.get(r.quantity)
        if q is None:
            raise CaseError(f"quantity {r.quantity!r} is not declared{suggest(r.quantity, names)}", entry=where,
                            field="quantity", value=r.quantity,
                            expected="the primary quantity or one of the [[quantities]] names: " + ", ".join(names))
        if q.lag:
            day = r.about + dt.timedelta(days=reading(case, r)[0])
            if not case.start <= day <= case.horizon:
                raise CaseError(f"a `{q.name}` report about {r.about} reads the primary on {day}, outside the case "
                                f"period {case.start} to {case.horizon}", entry=where, field="date",
                                expected="a date whose lagged day is within the period (or extend the horizon)")
    return quantities


def quantity_of(case, report) -> Quantity | None:
    """The declared quantity a report is about (``None`` for the primary)."""
    if report.quantity is None or report.quantity == case.quantity:
        return None
    return next(q for q in case.quantities if q.name == report.quantity)


def modelled(case, report) -> bool:
    """Whether the report enters this case's model (independent quantities are fitted on their own)."""
    q = quantity_of(case, report)
    return q is None or q.relation != "independent"


def subsets(case) -> list[Quantity]:
    """The subset quantities, whose shares are model parameters (in declaration order)."""
    return [q for q in case.quantities if q.relation == "subset"]


def reading(case, report) -> tuple[int, int]:
    """(day shift, share index) of a report's reading of the primary: ``-1`` for no share."""
    q = quantity_of(case, report)
    if q is None:
        return 0, -1
    if q.relation == "stage":
        return q.lag, -1
    return -(q.lag or 0), [s.name for s in subsets(case)].index(q.name)


def share_prior(q: Quantity) -> tuple[float, float]:
    """(mu, sd) of the Normal prior on log(share)."""
    from .priors import log_normal_from_range

    return log_normal_from_range(*q.share)


def names(case) -> list[str]:
    """Primary first, then every modelled quantity (independent ones are separate cases)."""
    return [case.quantity] + [q.name for q in case.quantities if q.relation != "independent"]


def level_draws(forecast, quantity=None) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Dates and draws (n_draws, n_dates) of a quantity's true level, in the case's unit.

    Parameters
    ----------
    forecast : Forecast
    quantity : str, optional
        A quantity's name; default the primary.

    Returns
    -------
    dates : pandas.DatetimeIndex
        For a stage with lag L, the dates whose day + L is within the case period;
        for a subset with lag L, those whose day - L is.
    draws : numpy.ndarray
    """
    case = forecast.case
    dates = forecast.design.dates
    x = forecast.idata.posterior["log_level"].values
    x = x.reshape(-1, x.shape[-1])
    if quantity is None or quantity == case.quantity:
        return dates, np.exp(x)
    from .evidence import suggest

    q = next((q for q in case.quantities if q.name == quantity), None)
    if q is None or q.relation == "independent":
        valid = names(case)
        raise CaseError(f"no modelled quantity {quantity!r}{suggest(quantity, valid)}", entry="quantity",
                        value=quantity, expected="one of " + ", ".join(valid)
                        + (" (independent quantities are fitted as their own case)" if q else ""))
    n = len(dates)
    if q.relation == "subset":
        i = forecast.design.share_names.index(q.name)
        log_share = forecast.idata.posterior["log_share"].values[..., i].reshape(-1, 1)
        lag = q.lag or 0
        return dates[lag:], np.exp(x[:, : n - lag] + log_share)
    lag = q.lag
    if lag >= 0:
        return dates[: n - lag], np.exp(x[:, lag:])
    return dates[-lag:], np.exp(x[:, : n + lag])


def trajectory(forecast, quantity=None) -> pd.DataFrame:
    """Daily posterior summary of a quantity: ``date,mean,q05,q25,q50,q75,q95`` (like ``Forecast.trajectory``)."""
    from .forecast import QUANTILES

    dates, lv = level_draws(forecast, quantity)
    out = pd.DataFrame({"date": dates.date, "mean": lv.mean(axis=0)})
    for q, v in zip(QUANTILES, np.quantile(lv, QUANTILES, axis=0)):
        out[f"q{round(q * 100):02d}"] = v
    return out


def shares(forecast) -> pd.DataFrame:
    """Each subset's share of the primary: prior range, posterior median and 90% interval."""
    rows = []
    for q in subsets(forecast.case):
        i = forecast.design.share_names.index(q.name)
        s = np.exp(forecast.idata.posterior["log_share"].values[..., i].ravel())
        rows.append({"quantity": q.name, "of": forecast.case.quantity, "prior_low": q.share[0],
                     "prior_high": q.share[1], "share_median": float(np.median(s)),
                     "share_q05": float(np.quantile(s, 0.05)), "share_q95": float(np.quantile(s, 0.95))})
    return pd.DataFrame(rows, columns=["quantity", "of", "prior_low", "prior_high", "share_median", "share_q05",
                                       "share_q95"])


def independent_names(case) -> set[str]:
    """Names of the case's independent quantities (each fitted as a case of its own)."""
    return {q.name for q in case.quantities if q.relation == "independent"}


def drives_independent(case) -> bool:
    """Whether a scenario's driver reads an independent quantity (which then needs its own fit)."""
    independent = independent_names(case)
    return any(s.driver is not None and s.driver.quantity in independent for s in case.scenarios)


def independent_cases(case) -> dict:
    """Each independent quantity as a case of its own (its reports, the case's period and sources).

    Returns
    -------
    dict of str to Case
        Fit each with :func:`forecasting.fit`; empty if no quantity is independent.
    """
    out = {}
    for q in case.quantities:
        if q.relation != "independent":
            continue
        reports = tuple(replace(r, quantity=None) for r in case.reports if r.quantity == q.name)
        if not reports:
            continue
        # every declared source, in the case's order: the model uses only those with reports,
        # and the fan charts of all quantities give each source the same colour
        sources = case.sources if case.sources_declared else ()
        as_of = case.as_of
        if as_of is not None and not any(r.date <= as_of for r in reports):
            continue
        out[q.name] = type(case)(name=f"{case.name}: {q.name}", unit=q.unit or case.unit, start=case.start,
                                 horizon=case.horizon, reports=reports, sources=sources, as_of=as_of,
                                 trajectory=case.trajectory, description=q.description,
                                 sources_declared=case.sources_declared)
    return out
