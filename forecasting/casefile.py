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
from .evidence import Case, Outcome, Report, Source, check_keys, suggest
from .priors import Priors
from .scenarios import scenario_to_dict, scenarios_from_rows

CASE_REQUIRED = {"name": 'the case\'s name, like name = "North Korean troops in Russia"',
                 "unit": 'the unit counted, like unit = "troops"',
                 "start": "the first day of the trajectory, like start = 2024-10-01",
                 "horizon": "the last day of the trajectory, like horizon = 2024-12-31"}
CASE_KEYS = ("name", "unit", "start", "horizon", "as_of", "trajectory", "description", "reports_csv", "quantity")
SOURCE_KEYS = ("name", "grade", "bias", "rationale", "noise")
REPORT_KEYS = ("date", "source", "claim", "value", "low", "high", "target", "note", "cites", "quantity")
QUANTITY_KEYS = ("name", "relation", "of", "share", "lag", "unit", "description")
OUTCOME_KEYS = ("scenario", "resolved", "date", "note")
TOP_KEYS = ("case", "sources", "reports", "priors", "scenarios", "outcomes", "quantities")
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


def reports_from_rows(rows, *, file=None, entry="row {i}", first=2, nan_is_empty=False, lines=None) -> list[Report]:
    """Build reports from mappings with the case-file field names.

    ``lines``, if given, are the numbers used in ``entry`` (a CSV row's line in its file).
    """
    out = []
    for i, row in enumerate(rows):
        where = entry.format(i=lines[i] if lines is not None else i + first)
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
    # strict: a stray quote is an error with its line, not a silently merged cell
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(c.strip() for c in header):
            raise CaseError("the file is empty", file=str(path), entry="header",
                            expected="a header row with date,source,claim,value,...")
        header = [c.strip() for c in header]
        for col in header:
            if col and col not in REPORT_KEYS:
                raise CaseError(f"unknown column {col!r}{suggest(col, REPORT_KEYS)}", file=str(path), entry="header",
                                field=col or None, value=col, expected="columns among " + ", ".join(REPORT_KEYS))
        twice = sorted({c for c in header if c and header.count(c) > 1})
        if twice:
            raise CaseError(f"column {twice[0]!r} appears twice", file=str(path), entry="header", field=twice[0],
                            expected="each column once")
        rows, lines = [], []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line between rows is harmless
            if len(cells) > len(header):
                raise CaseError(f"{len(cells)} cells but the header has {len(header)} columns", file=str(path),
                                entry=f"row {reader.line_num}", value=cells,
                                expected="no more cells than header columns (quote a note containing commas)")
            # an unnamed column (a trailing comma in the header) may only hold empty cells
            rows.append({k: v for k, v in zip(header, cells) if k or v.strip()})
            lines.append(reader.line_num)
    except csv.Error as e:
        raise CaseError(f"invalid CSV at line {reader.line_num}: {e}", file=str(path), entry=f"row {reader.line_num}",
                        expected="comma-separated cells, quotes only around whole cells") from None
    return reports_from_rows(rows, file=str(path), lines=lines)


def reports_from_frame(df) -> list[Report]:
    """Build reports from a pandas DataFrame with the case-file column names."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise CaseError(f"got {type(df).__name__}", file="DataFrame", expected="a pandas DataFrame of reports")
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


def outcomes_from_rows(rows, *, file=None) -> tuple[Outcome, ...]:
    """Build outcomes from a case file's ``[[outcomes]]`` array (checked against scenarios by the Case)."""
    if not isinstance(rows, list):
        raise CaseError("must be an array of tables", file=file, entry="outcomes", expected="[[outcomes]] entries")
    out = []
    for i, row in enumerate(rows):
        where = f"outcomes[{i}]"
        check_keys(row, OUTCOME_KEYS, entry=where, file=file)
        for key in ("scenario", "resolved"):
            if key not in row:
                raise CaseError("missing", file=file, entry=where, field=key)
        out.append(_build(Outcome, row, entry=where, file=file))
    return tuple(out)


def case_from_dict(data: dict, *, file=None, base_dir=None) -> Case:
    """Build a case from the parsed content of a case file."""
    check_keys(data, TOP_KEYS, entry=None, file=file)
    head = data.get("case")
    if head is None:
        raise CaseError("missing [case] table", file=file, entry="case", expected="name, unit, start, horizon")
    check_keys(head, CASE_KEYS, entry="case", file=file)
    for key in ("name", "unit", "start", "horizon"):
        if key not in head:
            raise CaseError("missing", file=file, entry="case", field=key, expected=CASE_REQUIRED[key])
    sources_raw = data.get("sources", [])
    if not isinstance(sources_raw, list):
        raise CaseError("must be an array of tables", file=file, entry="sources", expected="[[sources]] entries")
    sources = []
    for i, s in enumerate(sources_raw):
        check_keys(s, SOURCE_KEYS, entry=f"sources[{i}]", file=file)
        if "name" not in s:
            raise CaseError("missing", file=file, entry=f"sources[{i}]", field="name",
                            expected="the name reports use for this source")
        s = dict(s)
        for key in ("bias", "noise"):
            if isinstance(s.get(key), list):
                s[key] = tuple(s[key])
        sources.append(_build(Source, s, entry=f"sources[{i}]", file=file))
    reports_raw = data.get("reports", [])
    if not isinstance(reports_raw, list):
        raise CaseError("must be an array of tables", file=file, entry="reports", expected="[[reports]] entries")
    reports = reports_from_rows(reports_raw, file=file, entry="reports[{i}]", first=0)
    if head.get("reports_csv") is not None:
        raw = head["reports_csv"]
        if not isinstance(raw, str) or not raw.strip():
            raise CaseError(f"got {raw!r}", file=file, entry="case", field="reports_csv", value=raw,
                            expected="the path of a CSV file, relative to the case file")
        csv_path = Path(raw)
        if not csv_path.is_absolute() and base_dir is not None:
            csv_path = Path(base_dir) / csv_path
        if not csv_path.is_file():
            raise CaseError(f"{raw!r}: {'is a directory' if csv_path.is_dir() else 'no such file'} ({csv_path})",
                            file=file, entry="case", field="reports_csv", value=raw,
                            expected="the path of a CSV file, relative to the case file")
        reports += read_reports_csv(csv_path)
    priors_raw = data.get("priors", {})
    check_keys(priors_raw, Priors.keys(), entry="priors", file=file)
    priors = _build(Priors, {k: tuple(v) if isinstance(v, list) else v for k, v in priors_raw.items()},
                    entry="priors", file=file)
    scenarios = scenarios_from_rows(data.get("scenarios", []), file=file)
    outcomes = outcomes_from_rows(data.get("outcomes", []), file=file)
    quantities = _quantities(data.get("quantities", []), file=file)
    fields = {k: v for k, v in head.items() if k != "reports_csv"}
    try:
        return Case(reports=tuple(reports), sources=tuple(sources), priors=priors,
                    sources_declared=bool(sources_raw), scenarios=scenarios, outcomes=outcomes,
                    quantities=quantities, **fields)
    except CaseError as e:
        raise e.located(file=file, entry="case") from None


def _quantities(rows, *, file=None):
    from .quantities import Quantity

    if not isinstance(rows, list):
        raise CaseError("must be an array of tables", file=file, entry="quantities", expected="[[quantities]] entries")
    out = []
    for i, row in enumerate(rows):
        where = f"quantities[{i}]"
        check_keys(row, QUANTITY_KEYS, entry=where, file=file)
        for key in ("name", "relation"):
            if key not in row:
                raise CaseError("missing", file=file, entry=where, field=key)
        row = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
        out.append(_build(Quantity, row, entry=where, file=file))
    return tuple(out)


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
        raise CaseError(f"invalid TOML: {e}", file=str(path),
                        expected="TOML as in docs/case-file.md (text in quotes, dates like 2024-10-23)") from None
    except RecursionError:  # arrays or tables nested thousands deep: no case file looks like that
        raise CaseError("invalid TOML: nested too deeply to read", file=str(path),
                        expected="TOML as in docs/case-file.md (a few levels of tables and arrays)") from None
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
    if case.quantity != "total":
        head["quantity"] = case.quantity
    out = {"case": head}
    if case.sources_declared:
        out["sources"] = [
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in
             (("name", s.name), ("grade", s.grade), ("bias", s.bias), ("rationale", s.rationale),
                           ("noise", s.noise)) if v}
            for s in case.sources
        ]
    out["reports"] = [
        {k: iso(v) for k, v in (("date", r.date), ("source", r.source), ("claim", r.claim), ("value", r.value),
                                ("low", r.low), ("high", r.high), ("target", r.target), ("note", r.note),
                                ("cites", r.cites), ("quantity", r.quantity))
         if v not in (None, "")}
        for r in case.reports
    ]
    pri = {k: list(getattr(case.priors, k)) for k in Priors.keys() if getattr(case.priors, k) is not None}
    if pri != {k: list(getattr(Priors(), k)) for k in Priors.keys() if getattr(Priors(), k) is not None}:
        out["priors"] = pri
    if case.scenarios:
        out["scenarios"] = [scenario_to_dict(s) for s in case.scenarios]
    if case.quantities:
        out["quantities"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(q).items()
                              if v not in (None, "")} for q in case.quantities]
    if getattr(case, "outcomes", ()):
        out["outcomes"] = [{k: iso(v) for k, v in (("scenario", o.scenario), ("resolved", o.resolved),
                                                   ("date", o.date), ("note", o.note)) if v not in (None, "")}
                           for o in case.outcomes]
    return out


def case_from_plain(data: dict, *, file=None) -> Case:
    """Rebuild a case from :func:`case_to_dict` output (dates as text)."""
    return case_from_dict(data, file=file)
