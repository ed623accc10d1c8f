"""Read cases from TOML files, CSV files, dicts and pandas DataFrames.

Errors name the file, the entry (``reports[3]`` or ``row 5``) and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import tomllib
from importlib import resources
from pathlib import Path

from .errors import CaseError
from .evidence import Case, Report, Source, check_keys, suggest
from .priors import Priors
from .scenarios import scenario_to_dict, scenarios_from_rows

CASE_KEYS = ("name", "unit", "start", "horizon", "as_of", "trajectory", "description", "reports_csv")
SOURCE_KEYS = ("name", "grade", "bias", "rationale")
REPORT_KEYS = ("date", "source", "claim", "value", "low", "high", "target", "note")
TOP_KEYS = ("case", "sources", "reports", "priors", "scenarios", "outcomes")
BUILTIN = {"nk_troops_2024": "nk_troops_2024.toml"}


def _build(cls, table, *, entry, file):
    try:
        return cls(**table)
    except CaseError as e:
        raise e.located(file=file, entry=entry) from None


def _clean(value, nan_is_empty=False):
    if value is None or (nan_is_empty and isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _number(value, *, entry, field, file):
    """CSV cells arrive as text: read numbers, keep anything else for validation to reject."""
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").replace("_", ""))
        except ValueError:
            return value
    return value


def reports_from_rows(rows, *, file=None, entry="row {i}", first=2, nan_is_empty=False) -> list[Report]:
    """Build reports from mappings with the case-file field names."""
    out = []
    for i, row in enumerate(rows):
        where = entry.format(i=i + first)
        if not isinstance(row, dict):
            raise CaseError(f"got {type(row).__name__}", file=file, entry=where, expected="a table of report fields")
        row = {k: _clean(v, nan_is_empty) for k, v in row.items() if k is not None}
        check_keys(row, REPORT_KEYS, entry=where, file=file)
        row = {k: v for k, v in row.items() if v is not None}
        for k in ("value", "low", "high"):
            if k in row:
                row[k] = _number(row[k], entry=where, field=k, file=file)
        if "date" not in row:
            raise CaseError("missing", file=file, entry=where, field="date", expected="a date like 2024-10-23")
        if "source" not in row:
            raise CaseError("missing", file=file, entry=where, field="source", expected="the source's name")
        if "claim" not in row:
            raise CaseError("missing", file=file, entry=where, field="claim",
                            expected="approximately, at_least, up_to, between or projection")
        out.append(_build(Report, row, entry=where, file=file))
    return out


def read_reports_csv(path) -> list[Report]:
    """Read reports from a CSV file with the case-file field names as header."""
    path = Path(path)
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise CaseError("the file is empty", file=str(path), expected="a header row with date,source,claim,value,...")
    try:
        rows = list(reader)
    except csv.Error as e:
        raise CaseError(f"invalid CSV at line {reader.line_num}: {e}", file=str(path)) from None
    return reports_from_rows(rows, file=str(path))


def reports_from_frame(df) -> list[Report]:
    """Build reports from a pandas DataFrame with the case-file column names."""
    # a DataFrame marks empty cells (e.g. `value` of a `between` row) with NaN
    return reports_from_rows(df.to_dict("records"), file="DataFrame", entry="row {i}", first=0, nan_is_empty=True)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise CaseError("no such file", file=str(path), expected="an existing case file")
    if path.is_dir():
        raise CaseError("is a directory", file=str(path), expected="a file")
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise CaseError("binary content", file=str(path), expected="a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CaseError(f"not UTF-8 text (byte {e.start}, line {line})", file=str(path),
                        expected="a UTF-8 text file") from None


def case_from_dict(data: dict, *, file=None, base_dir=None) -> Case:
    """Build a case from the parsed content of a case file."""
    check_keys(data, TOP_KEYS, entry=None, file=file)
    head = data.get("case")
    if head is None:
        raise CaseError("missing [case] table", file=file, entry="case", expected="name, unit, start, horizon")
    check_keys(head, CASE_KEYS, entry="case", file=file)
    for key in ("name", "unit", "start", "horizon"):
        if key not in head:
            raise CaseError("missing", file=file, entry="case", field=key)
    sources_raw = data.get("sources", [])
    if not isinstance(sources_raw, list):
        raise CaseError("must be an array of tables", file=file, entry="sources", expected="[[sources]] entries")
    sources = []
    for i, s in enumerate(sources_raw):
        check_keys(s, SOURCE_KEYS, entry=f"sources[{i}]", file=file)
        if "name" not in s:
            raise CaseError("missing", file=file, entry=f"sources[{i}]", field="name")
        s = dict(s)
        if isinstance(s.get("bias"), list):
            s["bias"] = tuple(s["bias"])
        sources.append(_build(Source, s, entry=f"sources[{i}]", file=file))
    reports_raw = data.get("reports", [])
    if not isinstance(reports_raw, list):
        raise CaseError("must be an array of tables", file=file, entry="reports", expected="[[reports]] entries")
    reports = reports_from_rows(reports_raw, file=file, entry="reports[{i}]", first=0)
    if head.get("reports_csv"):
        csv_path = Path(head["reports_csv"])
        if not csv_path.is_absolute() and base_dir is not None:
            csv_path = Path(base_dir) / csv_path
        reports += read_reports_csv(csv_path)
    priors_raw = data.get("priors", {})
    check_keys(priors_raw, Priors.keys(), entry="priors", file=file)
    priors = _build(Priors, {k: tuple(v) if isinstance(v, list) else v for k, v in priors_raw.items()},
                    entry="priors", file=file)
    scenarios = scenarios_from_rows(data.get("scenarios", []), file=file)
    fields = {k: v for k, v in head.items() if k != "reports_csv"}
    try:
        return Case(reports=tuple(reports), sources=tuple(sources), priors=priors,
                    sources_declared=bool(sources_raw), scenarios=scenarios, **fields)
    except CaseError as e:
        raise e.located(file=file, entry="case") from None


def load_case(path, *, as_of=None) -> Case:
    """Load a case from a TOML case file (or a reports CSV, which then needs no header table).

    Parameters
    ----------
    path : str or Path
        The case file.
    as_of : date or str, optional
        Override the file's ``as_of``.

    Raises
    ------
    CaseError
        With the file, entry and field of the first problem found.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CaseError(f"invalid TOML: {e}", file=str(path)) from None
    case = case_from_dict(data, file=str(path), base_dir=path.parent)
    return _with_as_of(case, as_of, str(path))


def _with_as_of(case, as_of, file):
    if as_of is None:
        return case
    try:
        return case.with_(as_of=as_of)
    except CaseError as e:
        raise e.located(file=file, entry="case") from None


def builtin_case(name: str = "nk_troops_2024", *, as_of=None) -> Case:
    """Load a case shipped with the package (default: North Korean troops in Russia, 2024)."""
    if name not in BUILTIN:
        raise CaseError(f"unknown built-in case {name!r}{suggest(name, BUILTIN)}",
                        expected="one of " + ", ".join(BUILTIN))
    ref = resources.files("forecasting") / "data" / BUILTIN[name]
    data = tomllib.loads(ref.read_text(encoding="utf-8"))
    return _with_as_of(case_from_dict(data, file=BUILTIN[name]), as_of, BUILTIN[name])


def builtin_case_path(name: str = "nk_troops_2024") -> Path:
    """Filesystem path of a built-in case file (to copy and edit)."""
    return Path(str(resources.files("forecasting") / "data" / BUILTIN[name]))


def case_to_dict(case: Case) -> dict:
    """A case as plain data (dates as ISO text), the inverse of :func:`case_from_dict`."""
    iso = lambda d: d.isoformat() if isinstance(d, dt.date) else d
    head = {"name": case.name, "unit": case.unit, "start": iso(case.start), "horizon": iso(case.horizon),
            "trajectory": case.trajectory}
    if case.description:
        head["description"] = case.description
    if case.as_of:
        head["as_of"] = iso(case.as_of)
    out = {"case": head}
    if case.sources_declared:
        out["sources"] = [
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in
             (("name", s.name), ("grade", s.grade), ("bias", s.bias), ("rationale", s.rationale)) if v}
            for s in case.sources
        ]
    out["reports"] = [
        {k: iso(v) for k, v in (("date", r.date), ("source", r.source), ("claim", r.claim), ("value", r.value),
                                ("low", r.low), ("high", r.high), ("target", r.target), ("note", r.note))
         if v not in (None, "")}
        for r in case.reports
    ]
    pri = {k: list(getattr(case.priors, k)) for k in Priors.keys() if getattr(case.priors, k) is not None}
    if pri != {k: list(getattr(Priors(), k)) for k in Priors.keys() if getattr(Priors(), k) is not None}:
        out["priors"] = pri
    if case.scenarios:
        out["scenarios"] = [scenario_to_dict(s) for s in case.scenarios]
    return out


def case_from_plain(data: dict, *, file=None) -> Case:
    """Rebuild a case from :func:`case_to_dict` output (dates as text)."""
    return case_from_dict(data, file=file)
