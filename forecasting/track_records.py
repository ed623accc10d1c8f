"""Sources' track records: what one case learnt about a source's bias and noise, as the next case's prior.

A registry is a small JSON file, meant to be read, shared and kept under
version control::

    {
      "format": "forecasting track records",
      "version": 1,
      "sources": [
        {"source": "South Korea NIS", "bias": [0.6, 1.04], "bias_median": 0.82, "noise": [0.17, 0.52], ...}
      ]
    }

``bias`` is the 90% posterior interval of ``claimed / true`` and ``noise`` that of
the sd of the source's log error, ``reports`` the number of independent reports
(echoes left out) they were learnt from, and ``case``/``as_of`` where and up to
when. Applied to a case (:func:`apply_track_records`), a record becomes the
source's declared ``bias`` and ``noise`` ranges: priors with the same 90% range.
The case-wide noise multiplier of the model still applies on top, so a
registry's noise range is a centre, not a cage.

Using a record assumes the source behaves as it did before (same kind of
quantity, same incentives); ``widen`` makes the borrowed ranges wider on the log
scale when that is doubtful.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .errors import CaseError
from .evidence import suggest

FORMAT = "forecasting track records"
VERSION = 1
FIELDS = ("source", "bias", "bias_median", "noise", "noise_median", "reports", "case", "as_of")


class TrackRecordWarning(UserWarning):
    """A registry names a source the case does not have (often a typo)."""


@dataclass(frozen=True)
class TrackRecord:
    """One source's bias and noise as learnt from a fitted case.

    Parameters
    ----------
    source : str
        The source's name, as cases refer to it.
    bias : (float, float)
        90% interval of ``claimed / true``.
    bias_median : float
    noise : (float, float)
        90% interval of the sd of the log of ``claimed / true``.
    noise_median : float
    reports : int
        Independent reports (echoes left out) the posterior was learnt from.
    case : str
        The case it was learnt from.
    as_of : datetime.date
        The date of the last report that case used.
    """

    source: str
    bias: tuple[float, float]
    bias_median: float
    noise: tuple[float, float]
    noise_median: float
    reports: int
    case: str
    as_of: dt.date

    def __post_init__(self):
        from .evidence import Source

        # Source validates the ranges and names with the same messages as a case file
        Source(self.source, bias=self.bias, noise=self.noise)
        for name in ("bias", "noise"):
            lo, hi = getattr(self, name)
            median = getattr(self, f"{name}_median")
            if isinstance(median, bool) or not isinstance(median, (int, float)) or not lo <= median <= hi:
                raise CaseError(f"got {median!r}", field=f"{name}_median", value=median,
                                expected=f"a number inside the {name} range [{lo:g}, {hi:g}]")
            object.__setattr__(self, name, (float(lo), float(hi)))
            object.__setattr__(self, f"{name}_median", float(median))
        if isinstance(self.reports, bool) or not isinstance(self.reports, int) or self.reports < 1:
            raise CaseError(f"got {self.reports!r}", field="reports", value=self.reports,
                            expected="a whole number of reports, at least 1")
        if not isinstance(self.case, str) or not self.case.strip():
            raise CaseError(f"got {self.case!r}", field="case", value=self.case, expected="the case's name")
        as_of = self.as_of
        if isinstance(as_of, str):
            try:
                as_of = dt.date.fromisoformat(as_of)
            except ValueError:
                pass
        if not isinstance(as_of, dt.date):
            raise CaseError(f"got {self.as_of!r}", field="as_of", value=self.as_of, expected="a date like 2025-03-31")
        object.__setattr__(self, "as_of", as_of)


def track_records(forecast) -> tuple[TrackRecord, ...]:
    """Each fitted source's track record (90% intervals of its bias and noise).

    Parameters
    ----------
    forecast : Forecast

    Returns
    -------
    tuple of TrackRecord
        One per source the fit learnt from, in the case's order.

    Examples
    --------
    >>> import forecasting as fc
    >>> from forecasting.track_records import save_track_records, track_records
    >>> forecast = fc.fit(fc.builtin_case(), draws=300, tune=300, chains=2)  # doctest: +SKIP
    >>> save_track_records(track_records(forecast), "registry.json")  # doctest: +SKIP
    """
    post = forecast.idata.posterior
    d = forecast.design
    case = forecast.case
    used = [case.reports[i] for i in d.report_index]
    as_of = max(r.date for r in used)
    out = []
    for i, name in enumerate(d.source_names):
        bias = np.exp(post["bias"].values[..., i].ravel())
        noise = post["noise"].values[..., i].ravel()
        b05, b50, b95 = (float(v) for v in np.quantile(bias, [0.05, 0.5, 0.95]))
        n05, n50, n95 = (float(v) for v in np.quantile(noise, [0.05, 0.5, 0.95]))
        out.append(TrackRecord(source=name, bias=(b05, b95), bias_median=b50, noise=(n05, n95), noise_median=n50,
                               reports=sum(r.source == name for r in used), case=case.name, as_of=as_of))
    return tuple(out)


def save_track_records(records, path) -> None:
    """Write records as a registry (JSON, one source per entry, sorted by name).

    An existing registry at ``path`` is replaced; merge first with
    :func:`merge_track_records` to keep its other sources.
    """
    records = sorted(records, key=lambda r: r.source)
    names = [r.source for r in records]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})[0]
        raise CaseError(f"source {twice!r} appears twice", file=str(path), entry="sources",
                        expected="one record per source (merge_track_records keeps the newest)")
    rows = []
    for r in records:
        row = asdict(r)
        row["bias"], row["noise"] = list(r.bias), list(r.noise)
        row["as_of"] = r.as_of.isoformat()
        rows.append({k: row[k] for k in FIELDS})
    # one source per line: a registry under version control then diffs source by source
    lines = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in rows)
    text = (f'{{\n  "format": {json.dumps(FORMAT)},\n  "version": {VERSION},\n  "sources": [\n'
            + (lines + "\n" if rows else "") + "  ]\n}\n")
    Path(path).write_text(text, encoding="utf-8")


def load_track_records(path) -> tuple[TrackRecord, ...]:
    """Read a registry written by :func:`save_track_records`.

    Raises
    ------
    CaseError
        Naming the file, the entry (``sources[2]``) and the field at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise CaseError("no such file", file=str(path), expected="a track-record registry (JSON)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CaseError(f"not JSON ({e})", file=str(path), expected="a track-record registry (JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CaseError("not a track-record registry", file=str(path), field="format",
                        expected=f'"format": "{FORMAT}"')
    if data.get("version") != VERSION:
        raise CaseError(f"got version {data.get('version')!r}", file=str(path), field="version",
                        expected=f"version {VERSION}")
    rows = data.get("sources")
    if not isinstance(rows, list):
        raise CaseError("missing or not a list", file=str(path), entry="sources", expected="a list of records")
    out = []
    for i, row in enumerate(rows):
        where = f"sources[{i}]"
        if not isinstance(row, dict):
            raise CaseError(f"got {type(row).__name__}", file=str(path), entry=where, expected="a record")
        for key in row:
            if key not in FIELDS:
                raise CaseError(f"unknown key {key!r}{suggest(key, FIELDS)}", file=str(path), entry=where,
                                field=key, expected="one of " + ", ".join(FIELDS))
        for key in FIELDS:
            if key not in row:
                raise CaseError("missing", file=str(path), entry=where, field=key)
        row = dict(row)
        for key in ("bias", "noise"):
            if isinstance(row[key], list):
                row[key] = tuple(row[key])
        try:
            out.append(TrackRecord(**row))
        except CaseError as e:
            raise e.located(file=str(path), entry=where) from None
    return tuple(out)


def merge_track_records(old, new) -> tuple[TrackRecord, ...]:
    """Records of both, the one with the later ``as_of`` winning for a source in both."""
    by_name = {r.source: r for r in old}
    for r in new:
        if r.source not in by_name or r.as_of >= by_name[r.source].as_of:
            by_name[r.source] = r
    return tuple(by_name.values())


def _widened(lo, hi, widen):
    if widen == 1:
        return lo, hi  # exactly as recorded (no round trip through logs)
    centre, half = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / 2
    return math.exp(centre - widen * half), math.exp(centre + widen * half)


def apply_track_records(case, records, *, widen: float = 1.0):
    """Use track records as priors: each named source gets the record's ``bias`` and ``noise`` ranges.

    Parameters
    ----------
    case : Case
    records : sequence of TrackRecord
    widen : float
        Multiply each range's half-width on the log scale (1 = as recorded; 2 =
        twice as wide, for a source that may behave differently in this case).

    Returns
    -------
    Case
        A copy; the sources keep their grades and rationales, with the record's
        provenance appended to the rationale.

    Warns
    -----
    TrackRecordWarning
        For each record naming a source the case does not have (with a close
        match, if any): a registry is shared across cases, so this is not an
        error, but a misspelt name would otherwise be dropped silently.
    """
    if isinstance(widen, bool) or not isinstance(widen, (int, float)) or not math.isfinite(widen) or widen <= 0:
        raise CaseError(f"got {widen!r}", field="widen", value=widen, expected="a positive number (1 = as recorded)")
    names = [s.name for s in case.sources]
    by_name = {}
    for r in records:
        if r.source in names:
            by_name[r.source] = r
        else:
            warnings.warn(f"track record for {r.source!r} (from {r.case!r}) matches no source of case "
                          f"{case.name!r}{suggest(r.source, names)}; it is not used", TrackRecordWarning,
                          stacklevel=2)
    sources = []
    for s in case.sources:
        r = by_name.get(s.name)
        if r is None:
            sources.append(s)
            continue
        note = (f"Track record from '{r.case}' ({r.reports} reports to {r.as_of}): bias {r.bias[0]:.3g}-"
                f"{r.bias[1]:.3g}, noise {r.noise[0]:.3g}-{r.noise[1]:.3g} (90%).")
        sources.append(replace(s, bias=_widened(*r.bias, widen), noise=_widened(*r.noise, widen),
                               rationale=f"{s.rationale} {note}".strip()))
    return case.with_(sources=tuple(sources))
