"""Random corruptions of a case file give the documented CaseError, never another exception."""

import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import CLAIM_KINDS, CaseError, load_case, read_reports_csv
from forecasting.casefile import case_from_dict

from .test_evidence import GOOD

FIELDS = ["name", "unit", "start", "horizon", "as_of", "trajectory", "date", "source", "claim", "value", "low",
          "high", "target", "grade", "bias"]
VALUES = st.one_of(
    st.integers(-10**15, 10**15), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.booleans(), st.dates().map(str), st.lists(st.integers(-5, 5), max_size=3), st.none(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, len(GOOD) - 1), junk=st.text(alphabet=string.printable, max_size=8),
       cut=st.integers(0, 20))
def test_text_corruptions_raise_case_error(tmp_path, pos, junk, cut):
    p = tmp_path / "case.toml"
    p.write_text(GOOD[:pos] + junk + GOOD[pos + cut:])
    try:
        case = load_case(p)
    except CaseError as e:
        assert str(p) in str(e)
    else:
        assert case.reports and case.horizon > case.start


@settings(max_examples=300, deadline=None)
@given(table=st.sampled_from(["case", "report", "source"]), field=st.sampled_from(FIELDS), value=VALUES)
def test_field_corruptions_raise_case_error(table, field, value):
    data = {
        "case": {"name": "t", "unit": "troops", "start": "2024-10-01", "horizon": "2024-12-31"},
        "sources": [{"name": "A", "grade": "B2"}],
        "reports": [{"date": "2024-10-23", "source": "A", "claim": "approximately", "value": 2000}],
    }
    target = {"case": data["case"], "report": data["reports"][0], "source": data["sources"][0]}[table]
    if value is None:
        target.pop(field, None)
    else:
        target[field] = value
    try:
        case = case_from_dict(data, file="fuzz.toml")
    except CaseError as e:
        assert str(e).startswith("fuzz.toml")
    else:
        assert all(r.value is None or r.value > 0 for r in case.reports)


CSV_GOOD = ("date,source,claim,value,low,high,target,note\n"
            "2024-10-23,Ukraine HUR,approximately,2000,,,,a\n"
            "2024-10-24,Ukraine HUR,between,,1000,3000,,\"b, quoted\"\n"
            "2024-10-25,Ukraine HUR,projection,10000,,,2024-12-01,c\n")
CSV_CELLS = st.one_of(st.text(alphabet=string.printable, max_size=10), st.sampled_from(
    ["", "nan", "inf", "-1", "0", "1e400", "2024-02-30", "between", "projection", '"', '""', ",", "\n", "\r"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, len(CSV_GOOD) - 1), junk=st.text(alphabet=string.printable + "\"'\x00é", max_size=8),
       cut=st.integers(0, 20))
def test_csv_text_corruptions_raise_case_error(tmp_path, pos, junk, cut):
    """Splice junk anywhere into a reports CSV: quotes, commas, NULs, newlines, a cut header."""
    p = tmp_path / "reports.csv"
    p.write_text(CSV_GOOD[:pos] + junk + CSV_GOOD[pos + cut:], encoding="utf-8")
    try:
        reports = read_reports_csv(p)
    except CaseError as e:
        assert str(e).startswith(str(p)), str(e)
    else:
        assert all(r.claim in CLAIM_KINDS for r in reports)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(1, 3), col=st.integers(0, 7), cell=CSV_CELLS)
def test_csv_cell_corruptions_raise_case_error(tmp_path, row, col, cell):
    """Replace one cell of a valid CSV by an arbitrary value: a CaseError naming the row, or valid reports."""
    lines = [line.split(",") for line in CSV_GOOD.replace('"b, quoted"', "b").splitlines()]
    lines[row][col] = cell
    p = tmp_path / "reports.csv"
    p.write_text("\n".join(",".join(cells) for cells in lines) + "\n", encoding="utf-8")
    try:
        reports = read_reports_csv(p)
    except CaseError as e:
        assert str(e).startswith(f"{p}: "), str(e)
    else:
        assert all(math.isfinite(r.value or r.low) and (r.value or r.low) > 0 for r in reports)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), kind=st.sampled_from(["toml", "csv"]))
def test_random_bytes_raise_case_error(tmp_path, data, kind):
    """Arbitrary bytes (binary, invalid UTF-8, truncated text) as a case file or a reports CSV."""
    p = tmp_path / f"input.{kind}"
    p.write_bytes(data)
    try:
        (load_case if kind == "toml" else read_reports_csv)(p)
    except CaseError as e:
        assert str(e).startswith(str(p)), str(e)


@settings(max_examples=300, deadline=None)
@given(table=st.sampled_from(["scenario", "driver", "priors"]),
       field=st.sampled_from(["name", "question", "family", "resolves_by", "base_rate", "base_period_days",
                              "parents", "observed", "level_above", "for_days", "effect", "level", "wander"]),
       value=st.one_of(VALUES, st.lists(st.floats(allow_nan=True), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.lists(st.floats(0, 10), max_size=3), max_size=2),
                       st.integers(10**300, 10**400)))
def test_scenario_and_prior_corruptions_raise_case_error(table, field, value):
    data = {
        "case": {"name": "t", "unit": "troops", "start": "2024-10-01", "horizon": "2024-12-31"},
        "reports": [{"date": "2024-10-23", "source": "A", "claim": "approximately", "value": 2000}],
        "scenarios": [{"name": "s", "question": "q?", "family": "escalation", "resolves_by": "2024-12-01",
                       "base_rate": [0.05, 0.2], "driver": {"level_above": 5000, "for_days": 3}}],
        "priors": {"wander": [0.04, 0.4]},
    }
    target = {"scenario": data["scenarios"][0], "driver": data["scenarios"][0]["driver"],
              "priors": data["priors"]}[table]
    if value is None:
        target.pop(field, None)
    else:
        target[field] = value
    try:
        case_from_dict(data, file="fuzz.toml")
    except CaseError as e:
        assert str(e).startswith("fuzz.toml"), str(e)
