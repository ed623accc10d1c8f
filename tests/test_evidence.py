"""Bad input gets one clear CaseError naming the file, entry and field; good input loads."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecasting import Case, CaseError, Report, Source, builtin_case, load_case, read_reports_csv, reports_from_frame

GOOD = """
[case]
name = "test"
unit = "troops"
start = 2024-10-01
horizon = 2024-12-31

[[sources]]
name = "Ukraine HUR"
grade = "B2"

[[reports]]
date = 2024-10-23
source = "Ukraine HUR"
claim = "approximately"
value = 2000
"""


def write(tmp_path, text, name="case.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_builtin_case_loads_with_citations():
    case = builtin_case()
    assert case.name == "North Korean troops in Russia"
    assert len(case.reports) >= 25 and len(case.sources) >= 6
    assert all(r.note for r in case.reports), "every shipped report carries its citation"
    kinds = {r.claim for r in case.reports}
    assert {"approximately", "at_least", "projection"} <= kinds


def test_good_file_loads(tmp_path):
    case = load_case(write(tmp_path, GOOD))
    assert case.reports[0].value == 2000 and case.sources[0].grade == "B2"


@pytest.mark.parametrize(
    "change,entry,field,words",
    [
        (('claim = "approximately"', 'claim = "aproximately"'), "reports[0]", "claim", 'did you mean "approximately"'),
        (("value = 2000", "value = -5"), "reports[0]", "value", "positive"),
        (("value = 2000", "value = 0"), "reports[0]", "value", "positive"),
        (("value = 2000", 'value = "lots"'), "reports[0]", "value", "positive number"),
        (("value = 2000", "value = nan"), "reports[0]", "value", "finite"),
        (("value = 2000", "value = inf"), "reports[0]", "value", "finite"),
        (("value = 2000", "value = 1e15"), "reports[0]", "value", "implausible"),
        (("value = 2000\n", ""), "reports[0]", "value", "missing"),
        (("date = 2024-10-23", 'date = "23/10/2024"'), "reports[0]", "date", "2024-10-23"),
        (("date = 2024-10-23", "date = 2025-02-01"), "reports[0]", "date", "outside"),
        (('source = "Ukraine HUR"', 'source = "Ukraine HRU"'), "reports[0]", "source", 'did you mean "Ukraine HUR"'),
        (('grade = "B2"', 'grade = "G9"'), "sources[0]", "grade", "Admiralty"),
        (("horizon = 2024-12-31", "horizon = 2024-09-01"), "case", "horizon", "after `start`"),
        (("unit =", "units ="), "case", "units", 'did you mean "unit"'),
        (('claim = "approximately"\nvalue = 2000', 'claim = "between"\nlow = 3000\nhigh = 2000'),
         "reports[0]", "low", "low < high"),
        (('claim = "approximately"', 'claim = "projection"\ntarget = 2024-10-01'), "reports[0]", "target", "after"),
    ],
)
def test_bad_field_is_named(tmp_path, change, entry, field, words):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CaseError) as err:
        load_case(path)
    msg = str(err.value)
    assert msg.startswith(str(path)), msg
    assert f"{entry}.{field}" in msg or (entry == "case" and f"case.{field}" in msg), msg
    assert words in msg, msg


def test_invalid_toml_names_the_line(tmp_path):
    with pytest.raises(CaseError, match=r"invalid TOML.*line 3"):
        load_case(write(tmp_path, "[case]\nname = 'x'\nunit = \n"))


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"name = '\xff\xfe'"])
def test_binary_or_non_utf8_is_rejected(tmp_path, content):
    p = tmp_path / "case.toml"
    p.write_bytes(content)
    with pytest.raises(CaseError, match="binary|UTF-8"):
        load_case(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CaseError, match="no such file"):
        load_case(tmp_path / "nope.toml")
    with pytest.raises(CaseError, match="is a directory"):
        load_case(tmp_path)


def test_as_of_before_every_report(tmp_path):
    with pytest.raises(CaseError, match="as_of"):
        load_case(write(tmp_path, GOOD), as_of="2024-10-02")


def test_no_reports(tmp_path):
    text = GOOD.split("[[reports]]")[0]
    with pytest.raises(CaseError, match="no reports"):
        load_case(write(tmp_path, text))


def test_csv_reports_with_row_numbers(tmp_path):
    csv = "date,source,claim,value,low,high,target,note\n" \
          "2024-10-23,HUR,approximately,2000,,,,a\n" \
          "2024-10-24,US,between,,1000,3000,,b\n" \
          "2024-10-25,NIS,projection,10000,,,2024-12-01,c\n"
    reports = read_reports_csv(write(tmp_path, csv, "r.csv"))
    assert [r.claim for r in reports] == ["approximately", "between", "projection"]
    bad = csv.replace("2024-10-24,US,between,,1000,3000", "2024-10-24,US,between,,1000,abc")
    with pytest.raises(CaseError, match=r"r\.csv: row 3\.high"):
        read_reports_csv(write(tmp_path, bad, "r.csv"))


def test_case_file_can_point_to_csv(tmp_path):
    write(tmp_path, "date,source,claim,value\n2024-11-01,Ukraine HUR,at_least,5000\n", "more.csv")
    case = load_case(write(tmp_path, GOOD.replace('unit = "troops"', 'unit = "troops"\nreports_csv = "more.csv"')))
    assert len(case.reports) == 2 and case.reports[1].claim == "at_least"


def test_dataframe_and_objects_give_the_same_case():
    df = pd.DataFrame({"date": ["2024-10-23", "2024-10-25"], "source": ["HUR", "US"],
                       "claim": ["approximately", "up_to"], "value": [2000, 3000]})
    from_df = Case("t", "troops", "2024-10-01", "2024-12-31", reports_from_frame(df))
    from_obj = Case("t", "troops", dt.date(2024, 10, 1), dt.date(2024, 12, 31),
                    [Report("2024-10-23", "HUR", "approximately", 2000), Report("2024-10-25", "US", "up_to", 3000)])
    assert from_df.reports == from_obj.reports
    assert [s.name for s in from_df.sources] == ["HUR", "US"]


def test_api_errors_are_case_errors():
    with pytest.raises(CaseError, match="value"):
        Report("2024-10-23", "HUR", "approximately", -1)
    with pytest.raises(CaseError, match="bias"):
        Source("Russia", bias=(0.5, 0.1))
    with pytest.raises(CaseError, match='source "X"|source .X. is not declared'):
        Case("t", "u", "2024-10-01", "2024-12-31", [Report("2024-10-23", "X", "up_to", 5)], sources=[Source("Y")])


def test_worst_conflict_matches_the_pairwise_definition():
    """The linear-time search finds the same factor and pair as the table of all pairs."""
    from forecasting.evidence import CONFLICT_DAYS, _claim_range, _worst_conflict

    rng = np.random.default_rng(0)
    start, checked = dt.date(2024, 1, 1), 0
    for _ in range(200):
        reports = []
        for _ in range(int(rng.integers(2, 40))):
            day = start + dt.timedelta(days=int(rng.integers(0, 120)))
            kind = str(rng.choice(["approximately", "at_least", "up_to", "between"]))
            v = float(np.round(np.exp(rng.normal(8, 2))))
            reports.append(Report(day, "A", kind, low=v, high=2 * v) if kind == "between" else Report(day, "A", kind, v))
        lo, hi = (np.array(v, float) for v in zip(*(_claim_range(r) for r in reports)))
        about = np.array([(r.about - start).days for r in reports])
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(np.abs(about[:, None] - about[None, :]) <= CONFLICT_DAYS, lo[:, None] / hi[None, :], 1.0)
        gap = np.nan_to_num(gap, nan=1.0, posinf=1.0)
        i, j = np.unravel_index(np.argmax(gap), gap.shape)
        factor, i2, j2 = _worst_conflict(reports, start)
        assert max(factor, 1.0) == pytest.approx(max(gap[i, j], 1.0), rel=1e-12)
        if gap[i, j] > 1:
            assert (i2, j2) == (i, j)
            checked += 1
    assert checked > 150  # most random sets have a conflict to find
