"""Every kind of bad input gets one clear CaseError, and the command line exits 2 cleanly.

For each problem the issue lists, three things are checked:

(a) the Python API raises :class:`CaseError` (``pytest.raises`` fails on any other exception);
(b) the message names the file, the entry (``reports[3]``, ``row 4``, ``header``) and the
    field, and shows the offending value and what was expected;
(c) ``forecasting run BAD --out DIR`` exits 2, prints no traceback, and leaves neither ``DIR``
    nor a ``.DIR.partial-*`` temporary directory behind.

The case below is a test fixture, not data: its sources and figures are made up ("Agency A").
"""

import datetime as dt
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from forecasting import Case, CaseError, Priors, Report, Source, load_case, read_reports_csv, reports_from_frame

BASE = """\
[case]
name = "bad input"
unit = "troops"
start = 2024-10-01
horizon = 2024-12-31
trajectory = "saturating"

[[sources]]
name = "Agency A"
grade = "B2"

[[sources]]
name = "Ministry B"
grade = "C3"

[[reports]]
date = 2024-10-18
source = "Agency A"
claim = "at_least"
value = 1500

[[reports]]
date = 2024-10-20
source = "Ministry B"
claim = "between"
low = 2000
high = 4000

[[reports]]
date = 2024-10-23
source = "Agency A"
claim = "projection"
value = 10000
target = 2024-12-01

[[reports]]
date = 2024-11-04
source = "Ministry B"
claim = "approximately"
value = 11000

[[scenarios]]
name = "combat"
question = "Test question one?"
family = "escalation"
resolves_by = 2024-12-31
base_rate = [0.05, 0.3]

[[scenarios]]
name = "aid"
question = "Test question two?"
family = "military_aid"
resolves_by = 2024-12-31
base_rate = [0.05, 0.3]
parents = { combat = [1.5, 4.0] }
"""

CSV = """\
date,source,claim,value,low,high,target,note
2024-10-25,Agency A,approximately,3000,,,,first
2024-10-26,Ministry B,between,,2500,4000,,second
2024-10-27,Agency A,up_to,5000,,,,"third, with a comma"
"""

R3 = 'date = 2024-11-04\nsource = "Ministry B"\nclaim = "approximately"\nvalue = 11000'


def _r3(new):
    """Replace the last report (reports[3]) by ``new``."""
    return lambda t: t.replace(R3, new)


def _sub(old, new):
    def edit(text):
        assert text.count(old) == 1, old
        return text.replace(old, new)
    return edit


def _only_reports_before(text):
    return text.split("[[reports]]")[0] + "[[scenarios]]" + text.split("[[scenarios]]", 1)[1]


# id -> (edit of BASE, substrings the message must contain: the entry.field, the value, what was expected)
CASE_FILE = {
    "unknown claim kind": (_sub('claim = "approximately"', 'claim = "aproximately"'),
                           ["reports[3].claim", "'aproximately'", 'did you mean "approximately"', "expected one of"]),
    "missing value": (_sub("value = 11000\n", ""), ["reports[3].value", "missing", "expected a positive number"]),
    "non-numeric value": (_sub("value = 11000", 'value = "lots"'),
                          ["reports[3].value", "'lots'", "expected a positive number"]),
    "zero value": (_sub("value = 11000", "value = 0"), ["reports[3].value", "got 0", "expected a positive"]),
    "negative value": (_sub("value = 11000", "value = -11000"),
                       ["reports[3].value", "got -11000", "expected a positive"]),
    "NaN value": (_sub("value = 11000", "value = nan"), ["reports[3].value", "got nan", "finite"]),
    "infinite value": (_sub("value = 11000", "value = inf"), ["reports[3].value", "got inf", "finite"]),
    "absurd magnitude": (_sub("value = 11000", "value = 1e15"),
                         ["reports[3].value", "got 1000000000000000.0", "implausible", "expected a number below 1e+12"]),
    "integer beyond float range": (_sub("value = 11000", "value = " + "9" * 400),
                                   ["reports[3].value", "999...", "implausible"]),
    "boolean value": (_sub("value = 11000", "value = true"), ["reports[3].value", "got True", "positive number"]),
    "low above high": (_sub("low = 2000\nhigh = 4000", "low = 5000\nhigh = 4000"),
                       ["reports[1].low", "low 5000 is not below high 4000", "expected low < high"]),
    "between without high": (_sub("high = 4000\n", ""), ["reports[1].high", "missing", "between"]),
    "malformed date": (_sub("date = 2024-11-04", 'date = "04/11/2024"'),
                       ["reports[3].date", "'04/11/2024'", "expected a date like 2024-10-23"]),
    "date of the wrong type": (_sub("date = 2024-11-04", "date = 20241104"),
                               ["reports[3].date", "20241104", "expected a date like"]),
    "report before start": (_sub("date = 2024-11-04", "date = 2024-09-04"),
                            ["reports[3].date", "2024-09-04 is outside the case period", "between start and horizon"]),
    "report after horizon": (_sub("date = 2024-11-04", "date = 2025-01-04"),
                             ["reports[3].date", "2025-01-04 is outside", "between start and horizon"]),
    "projection target not after its report": (_sub("target = 2024-12-01", "target = 2024-10-23"),
                                               ["reports[2].target", "2024-10-23 is not after the report date",
                                                "expected a date after `date`"]),
    "projection target after horizon": (_sub("target = 2024-12-01", "target = 2025-02-01"),
                                        ["reports[2].target", "2025-02-01 is after the horizon", "extend the horizon"]),
    "projection without target": (_sub("target = 2024-12-01\n", ""), ["reports[2].target", "missing"]),
    "horizon before start": (_sub("horizon = 2024-12-31", "horizon = 2024-09-30"),
                             ["case.horizon", "2024-09-30 is not after start 2024-10-01", "expected a date after"]),
    "no reports": (_only_reports_before, ["reports", "no reports", "expected at least one report"]),
    "none on or before as_of": (_sub('trajectory = "saturating"', 'trajectory = "saturating"\nas_of = 2024-10-05'),
                                ["case.as_of", "no report was made on or before as_of 2024-10-05",
                                 "on or after the first report (2024-10-18)"]),
    "undeclared source": (_sub('source = "Ministry B"\nclaim = "approximately"',
                               'source = "Minstry B"\nclaim = "approximately"'),
                          ["reports[3].source", "'Minstry B' is not declared", 'did you mean "Ministry B"',
                           "expected one of the [[sources]] names"]),
    "invalid Admiralty grade": (_sub('grade = "B2"', 'grade = "G7"'),
                                ["sources[0].grade", "'G7'", "expected an Admiralty grade"]),
    "duplicate source": (_sub('name = "Ministry B"', 'name = "Agency A"'),
                         ["sources.name", "'Agency A' is declared twice"]),
    "source bias reversed": (_sub('grade = "C3"', 'grade = "C3"\nbias = [2.0, 0.5]'),
                             ["sources[1].bias", "low 2 is not below high 0.5", "low < high"]),
    "scenario cycle": (_sub('base_rate = [0.05, 0.3]\n\n', 'base_rate = [0.05, 0.3]\nparents = { aid = [1.5, 4.0] }\n\n'),
                       ["scenarios[", ".parents", "cycle", "combat -> aid -> combat"]),
    "scenario unknown parent": (_sub("parents = { combat", "parents = { combatt"),
                                ["scenarios[1].parents", "unknown parent 'combatt'", 'did you mean "combat"']),
    "unknown top-level table": (_sub("[[reports]]\ndate = 2024-10-18", "[[report]]\ndate = 2024-10-18"),
                                ["report", "unknown key 'report'", 'did you mean "reports"']),
    "case key typo": (_sub("horizon = 2024-12-31", "horizon = 2024-12-31\nhorizn = 2024-12-31"),
                      ["case.horizn", "unknown key 'horizn'", 'did you mean "horizon"']),
    "report key typo": (_sub("value = 11000", "value = 11000\nvaleu = 1"),
                        ["reports[3].valeu", "unknown key 'valeu'", 'did you mean "value"']),
    "source key typo": (_sub('grade = "B2"', 'grade = "B2"\ngrdae = "B2"'),
                        ["sources[0].grdae", 'did you mean "grade"']),
    "scenario key typo": (_sub("resolves_by = 2024-12-31\nbase_rate = [0.05, 0.3]\n\n",
                               "resolves_by = 2024-12-31\nbase_rate = [0.05, 0.3]\nparnets = {}\n\n"),
                          ["scenarios[0].parnets", 'did you mean "parents"']),
    "priors key typo": (lambda t: t + "\n[priors]\nlevle = [100, 100000]\n",
                        ["priors.levle", 'did you mean "level"']),
    "prior range reversed": (lambda t: t + "\n[priors]\nlevel = [100000, 100]\n",
                             ["priors.level", "got (100000, 100)", "low < high"]),
    "trajectory typo": (_sub('trajectory = "saturating"', 'trajectory = "saturatng"'),
                        ["case.trajectory", "'saturatng'", 'did you mean "saturating"']),
    "missing unit": (_sub('unit = "troops"\n', ""), ["case.unit", "missing", 'like unit = "troops"']),
    "missing [case] table": (lambda t: t.replace("[case]\n", "[cases]\n"), ["cases", 'did you mean "case"']),
    "empty file": (lambda t: "", ["case", "missing [case] table"]),
    "invalid TOML": (_sub('unit = "troops"', 'unit = "troops'), ["invalid TOML", "line 3"]),
    "nested thousands deep": (lambda t: t + "\ndeep = " + "[" * 50000 + "]" * 50000 + "\n",
                              ["invalid TOML: nested too deeply to read"]),
    "impossible date": (_sub("date = 2024-11-04", "date = 2024-11-31"), ["invalid TOML", "line 37"]),
    "reports_csv missing": (_sub('unit = "troops"', 'unit = "troops"\nreports_csv = "nowhere.csv"'),
                            ["case.reports_csv", "'nowhere.csv': no such file", "a CSV file"]),
    "reports_csv not text": (_sub('unit = "troops"', 'unit = "troops"\nreports_csv = 5'),
                             ["case.reports_csv", "got 5", "the path of a CSV file"]),
}

# id -> (edit of CSV, entry.field in the CSV's own file, more substrings)
CSV_FILE = {
    "bad cell with its row": (_sub("2500,4000", "2500,abc"), "row 3.high", ["'abc'", "expected a positive number"]),
    "bad date with its row": (_sub("2024-10-27", "2024-10-32"), "row 4.date", ["'2024-10-32'", "a date like"]),
    "stray quote": (_sub('"third, with a comma"', '"third" and more'), "row 4",
                    ["invalid CSV at line 4", "quotes only around whole cells"]),
    "unterminated quote": (_sub('"third, with a comma"', '"third, with a comma'), "row 4",
                           ["invalid CSV at line", "unexpected end of data"]),
    "too many cells": (_sub(",,,,first", ",,,,first,extra"), "row 2",
                       ["9 cells but the header has 8 columns", "quote a note containing commas"]),
    "unknown column": (_sub("target,note", "traget,note"), "header.traget",
                       ["unknown column 'traget'", 'did you mean "target"']),
    "column twice": (_sub("target,note", "target,value"), "header.value", ["'value' appears twice"]),
    "unknown claim kind": (_sub("up_to", "upto"), "row 4.claim", ["'upto'", 'did you mean "up_to"']),
    "empty": (lambda t: "", "header", ["the file is empty"]),
}


def _write_case(tmp_path, text):
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _case_with_csv(tmp_path, csv_text):
    (tmp_path / "reports.csv").write_text(csv_text, encoding="utf-8")
    return _write_case(tmp_path, BASE.replace('unit = "troops"', 'unit = "troops"\nreports_csv = "reports.csv"'))


def _assert_message(err: CaseError, needles):
    msg = str(err)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    assert "; expected " in msg, f"the message does not say what was expected: {msg!r}"
    assert "Traceback" not in msg


def _cli(path, tmp_path, *extra):
    """Run the command on a bad input and check the clean exit; return its standard error."""
    return _check_cli(_run_cli(path, tmp_path, *extra), tmp_path)


def _run_cli(path, tmp_path, *extra):
    return subprocess.run([sys.executable, "-m", "forecasting.cli", "run", str(path), "--out", str(tmp_path / "out"),
                           *extra], capture_output=True, text=True, timeout=120)


def _check_cli(res, tmp_path):
    out = tmp_path / "out"
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert res.stderr.startswith("error: ") or res.stderr.startswith("usage: "), res.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".out.partial-*")), "a temporary output directory was left behind"
    return res.stderr


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """The command on every bad case file and CSV, run a few at a time (each start costs ~0.5 s)."""
    jobs = {}
    for name, (edit, _) in CASE_FILE.items():
        d = tmp_path_factory.mktemp("cli")
        jobs["case", name] = (d, _write_case(d, edit(BASE)))
    for name, (edit, *_) in CSV_FILE.items():
        d = tmp_path_factory.mktemp("cli")
        jobs["csv", name] = (d, _case_with_csv(d, edit(CSV)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {key: pool.submit(_run_cli, path, d) for key, (d, path) in jobs.items()}
        return {key: (jobs[key][0], jobs[key][1], run.result()) for key, run in runs.items()}


def test_base_case_is_valid(tmp_path):
    """The fixture itself loads (so each failure below is due to its one edit), with and without the CSV."""
    case = load_case(_write_case(tmp_path, BASE))
    assert len(case.reports) == 4 and len(case.scenarios) == 2
    assert len(load_case(_case_with_csv(tmp_path, CSV)).reports) == 7


@pytest.mark.parametrize("name", list(CASE_FILE))
def test_case_file_problem(tmp_path, cli_runs, name):
    edit, needles = CASE_FILE[name]
    path = _write_case(tmp_path, edit(BASE))
    with pytest.raises(CaseError) as err:
        load_case(path)
    _assert_message(err.value, [f"{path}: ", *needles])
    assert str(err.value).startswith(str(path))
    cli_dir, cli_path, res = cli_runs["case", name]
    assert str(err.value).replace(str(tmp_path), str(cli_dir)) in _check_cli(res, cli_dir)


@pytest.mark.parametrize("name", list(CSV_FILE))
def test_csv_problem(tmp_path, cli_runs, name):
    edit, where, needles = CSV_FILE[name]
    csv_path = tmp_path / "reports.csv"
    path = _case_with_csv(tmp_path, edit(CSV))
    with pytest.raises(CaseError) as err:
        read_reports_csv(csv_path)
    _assert_message(err.value, [f"{csv_path}: {where}", *needles])
    with pytest.raises(CaseError) as via_case:
        load_case(path)
    assert str(via_case.value) == str(err.value)
    cli_dir, cli_path, res = cli_runs["csv", name]
    assert str(err.value).replace(str(tmp_path), str(cli_dir)) in _check_cli(res, cli_dir)


@pytest.mark.parametrize(
    "content,needles",
    [
        (b"\x00\x01\x02\x03 binary", ["binary content", "expected a UTF-8 text file"]),
        (b'[case]\nname = "caf\xe9"\n', ["not UTF-8 text (byte 18, line 2)", "expected a UTF-8 text file"]),
    ],
    ids=["binary", "latin-1"],
)
@pytest.mark.parametrize("kind", ["toml", "csv"])
def test_binary_or_non_utf8(tmp_path, content, needles, kind):
    if kind == "toml":
        path = tmp_path / "bad.toml"
        path.write_bytes(content)
        target = path
    else:
        target = tmp_path / "reports.csv"
        path = _case_with_csv(tmp_path, "")
        target.write_bytes(content)
    with pytest.raises(CaseError) as err:
        load_case(path)
    _assert_message(err.value, [f"{target}: ", *needles])
    assert str(err.value) in _cli(path, tmp_path)


def test_missing_file_and_directory(tmp_path):
    for path, words in ((tmp_path / "nope.toml", "no such file"), (tmp_path, "is a directory")):
        with pytest.raises(CaseError) as err:
            load_case(path)
        _assert_message(err.value, [f"{path}: {words}", "expected"])
        sub = tmp_path / "cli"
        sub.mkdir(exist_ok=True)
        assert str(err.value) in _cli(path, sub)


@pytest.mark.parametrize(
    "args,needles",
    [
        (["--as-of", "notadate"], ["--as-of: got 'notadate'", "expected a date like 2024-10-23"]),
        (["--as-of", "2024-10-05"], ["case.as_of", "no report was made on or before as_of 2024-10-05"]),
        (["--what-if", "junk"], ["--what-if: cannot read 'junk'", "expected reaches=VALUE"]),
        (["--what-if", "reachs=5000"], ["did you mean \"reaches\""]),
        (["--what-if", "reaches=many"], ["--what-if.reaches: got 'many'", "expected a number"]),
        (["--draws", "0"], ["--draws: got 0", "at least 1"]),
        (["--tune", "-5"], ["--tune: got -5", "0 or more"]),
        (["--chains", "-1"], ["--chains: got -1", "at least 1"]),
        (["--seed", "-1"], ["--seed: got -1"]),
        (["--target-accept", "1.5"], ["--target-accept: got 1.5", "strictly between 0 and 1"]),
        (["--target-accept", "0"], ["--target-accept: got 0.0"]),
        (["--draws", "many"], ["argument --draws: invalid int value: 'many'"]),
        (["--trajectory", "linear"], ["argument --trajectory: invalid choice: 'linear'"]),
    ],
)
def test_bad_command_line_arguments(tmp_path, args, needles):
    """Bad settings are refused before any fitting, with the same clean message and exit status 2."""
    path = _write_case(tmp_path, BASE)
    stderr = _cli(path, tmp_path, *args)
    for needle in needles:
        assert needle in stderr, stderr


def test_output_path_that_is_a_file(tmp_path):
    """--out naming an existing file is refused before fitting, and the file is left alone."""
    path = _write_case(tmp_path, BASE)
    f = tmp_path / "out"
    f.write_text("x")
    res = subprocess.run([sys.executable, "-m", "forecasting.cli", "run", str(path), "--out", str(f)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{f}: --out: exists and is not a directory" in res.stderr
    assert f.read_text() == "x"


# ------------------------------------------------------------------ Python API
GOOD_REPORT = dict(date="2024-10-23", source="Agency A", claim="approximately", value=2000)


@pytest.mark.parametrize(
    "change,needles",
    [
        ({"claim": "aproximately"}, ["Report.claim: unknown claim kind 'aproximately'", 'did you mean "approximately"']),
        ({"claim": None}, ["Report.claim", "None"]),
        ({"value": None}, ["Report.value: missing", "positive number"]),
        ({"value": "lots"}, ["Report.value: got 'lots'", "expected a positive number"]),
        ({"value": 0}, ["Report.value: got 0"]),
        ({"value": -1}, ["Report.value: got -1"]),
        ({"value": float("nan")}, ["Report.value: got nan", "finite"]),
        ({"value": float("inf")}, ["Report.value: got inf", "finite"]),
        ({"value": 1e15}, ["Report.value: got 1000000000000000.0, an implausible magnitude"]),
        ({"value": 10**400}, ["Report.value", "implausible"]),
        ({"value": [2000]}, ["Report.value: got [2000]"]),
        ({"date": "23/10/2024"}, ["Report.date: got '23/10/2024'", "expected a date like 2024-10-23"]),
        ({"date": None}, ["Report.date: got None"]),
        ({"date": pd.NaT}, ["Report.date: got NaT"]),
        ({"source": ""}, ["Report.source: missing"]),
        ({"source": 7}, ["Report.source: got 7", "expected text"]),
        ({"claim": "between", "value": None, "low": 3000, "high": 2000}, ["Report.low: low 3000 is not below high 2000"]),
        ({"claim": "between"}, ["Report.low: missing"]),
        ({"claim": "projection", "target": "2024-10-01"}, ["Report.target: target 2024-10-01 is not after"]),
        ({"claim": "projection"}, ["Report.target: missing"]),
        ({"target": "2024-12-01"}, ["Report.target: only `projection` claims take a target"]),
        ({"note": 5}, ["Report.note: got 5"]),
    ],
)
def test_report_api(change, needles):
    with pytest.raises(CaseError) as err:
        Report(**{**GOOD_REPORT, **change})
    _assert_message(err.value, needles)


def test_report_api_accepts_numpy_numbers():
    """A DataFrame's int64 figure is a number, not a type error."""
    assert Report(**{**GOOD_REPORT, "value": np.int64(2000)}).value == 2000.0
    assert Report(**{**GOOD_REPORT, "date": pd.Timestamp("2024-10-23")}).date == dt.date(2024, 10, 23)


@pytest.mark.parametrize(
    "kwargs,needles",
    [
        ({"grade": "G7"}, ["Source.grade: got 'G7'", "Admiralty"]),
        ({"grade": 2}, ["Source.grade: got 2"]),
        ({"bias": (0.5, 0.1)}, ["Source.bias: low 0.5 is not below high 0.1"]),
        ({"bias": (0.5,)}, ["Source.bias: got (0.5,)", "[low, high]"]),
        ({"bias": (-1, 2)}, ["Source.bias: got -1"]),
        ({"name": ""}, ["Source.name: missing"]),
    ],
)
def test_source_api(kwargs, needles):
    with pytest.raises(CaseError) as err:
        Source(**{"name": "Agency A", **kwargs})
    _assert_message(err.value, needles)


def _report(**kw):
    return Report(**{**GOOD_REPORT, **kw})


@pytest.mark.parametrize(
    "kwargs,needles",
    [
        ({"horizon": "2024-09-01"}, ["case.horizon: horizon 2024-09-01 is not after start 2024-10-01"]),
        ({"start": "2024-13-01"}, ["Case.start: got '2024-13-01'"]),
        ({"reports": []}, ["reports: the case has no reports"]),
        ({"reports": None}, ["reports: the case has no reports"]),
        ({"reports": "a report"}, ["Case.reports: got str", "a sequence of Report"]),
        ({"reports": 5}, ["Case.reports: got int"]),
        ({"reports": [GOOD_REPORT]}, ["reports[0]: got dict", "expected a Report"]),
        ({"reports": [_report(), _report(date="2025-01-05")]}, ["reports[1].date: date 2025-01-05 is outside"]),
        ({"reports": [_report(source="Agnecy A")], "sources": [Source("Agency A")]},
         ["reports[0].source: source 'Agnecy A' is not declared", 'did you mean "Agency A"']),
        ({"sources": ["Agency A"]}, ["sources[0]: got str 'Agency A'", "expected a Source"]),
        ({"priors": {"level": (1, 10)}}, ["Case.priors: got dict", "a Priors"]),
        ({"as_of": "2024-10-02"}, ["case.as_of: no report was made on or before as_of 2024-10-02"]),
        ({"trajectory": "linear"}, ["case.trajectory: unknown trajectory 'linear'"]),
        ({"name": 5}, ["Case.name: got 5", "expected text"]),
        ({"scenarios": 5}, ["Case.scenarios: got int"]),
    ],
)
def test_case_api(kwargs, needles):
    base = dict(name="t", unit="troops", start="2024-10-01", horizon="2024-12-31", reports=[_report()])
    with pytest.raises(CaseError) as err:
        Case(**{**base, **kwargs})
    _assert_message(err.value, needles)


@pytest.mark.parametrize(
    "level,needles",
    [((1, 10**400), ["priors.level"]), ((10, 1), ["priors.level", "low < high"]), ("wide", ["priors.level"])],
)
def test_priors_api(level, needles):
    with pytest.raises(CaseError) as err:
        Priors(level=level)
    _assert_message(err.value, needles)


@pytest.mark.parametrize(
    "frame,needles",
    [
        ("not a frame", ["DataFrame: got str", "expected a pandas DataFrame"]),
        (pd.DataFrame({"date": ["2024-10-23", "2024-10-24"], "source": ["A", "B"], "claim": ["up_to", "up_to"],
                       "value": [3000, -5]}), ["DataFrame: row 1.value: got -5"]),
        (pd.DataFrame({"date": ["2024-10-23"], "source": ["A"], "claim": ["up_to"], "vaule": [3000]}),
         ["DataFrame: row 0.vaule: unknown key 'vaule'", 'did you mean "value"']),
        (pd.DataFrame({"date": [pd.NaT], "source": ["A"], "claim": ["up_to"], "value": [3000]}),
         ["DataFrame: row 0.date: got NaT", "a date like"]),
        (pd.DataFrame({"source": ["A"], "claim": ["up_to"], "value": [3000]}), ["DataFrame: row 0.date: missing"]),
        (pd.DataFrame({"date": ["2024-10-23"], "source": ["A"], "claim": ["between"], "value": [np.nan],
                       "low": [5000.0], "high": [4000.0]}), ["DataFrame: row 0.low: low 5000 is not below high 4000"]),
    ],
    ids=["not-a-frame", "negative", "typo-column", "NaT", "no-date", "low-above-high"],
)
def test_reports_from_frame(frame, needles):
    with pytest.raises(CaseError) as err:
        reports_from_frame(frame)
    _assert_message(err.value, needles)


def test_case_error_carries_its_parts(tmp_path):
    """The documented attributes: file, entry, field, value, expected."""
    path = _write_case(tmp_path, BASE.replace("value = 11000", "value = -3"))
    with pytest.raises(CaseError) as err:
        load_case(path)
    e = err.value
    assert (e.file, e.entry, e.field, e.value) == (str(path), "reports[3]", "value", -3)
    assert "positive" in e.expected
    assert isinstance(e, ValueError)


@pytest.mark.parametrize(
    "change,needles",
    [
        ({"driver": {"level_above": -1}}, ["Scenario.driver.level_above: got -1", "a positive number"]),
        ({"driver": {"levl_above": 5}}, ["Scenario.driver.levl_above: unknown key", 'did you mean "level_above"']),
        ({"base_rate": (0.5, 0.1)}, ["Scenario.base_rate: low 0.5 is above high 0.1"]),
        ({"base_rate": (0.1, 10**400)}, ["Scenario.base_rate: got"]),
        ({"family": "escalaton"}, ["Scenario.family: unknown family 'escalaton'", 'did you mean "escalation"']),
        ({"parents": {"x": (2, 1)}}, ["Scenario.parents.x: low 2 is above high 1"]),
        ({"resolves_by": "soon"}, ["Scenario.resolves_by: got 'soon'"]),
    ],
)
def test_scenario_api(change, needles):
    from forecasting import Scenario

    base = dict(name="s", question="q?", family="escalation", resolves_by="2024-12-01", base_rate=(0.1, 0.2))
    with pytest.raises(CaseError) as err:
        Scenario(**{**base, **change})
    _assert_message(err.value, needles)


@pytest.mark.parametrize(
    "settings,needles",
    [
        ({"draws": 0}, ["fit.draws: got 0", "at least 1"]),
        ({"draws": 10.5}, ["fit.draws: got 10.5", "a whole number"]),
        ({"chains": True}, ["fit.chains: got True"]),
        ({"tune": -1}, ["fit.tune: got -1", "0 or more"]),
        ({"seed": -1}, ["fit.seed: got -1"]),
        ({"target_accept": 1.5}, ["fit.target_accept: got 1.5", "strictly between 0 and 1"]),
        ({"target_accept": float("nan")}, ["fit.target_accept: got nan"]),
    ],
)
def test_sampler_settings(settings, needles):
    """The check the command line runs on its settings, offered for fit() (which does not yet call it)."""
    from forecasting.evidence import check_settings

    with pytest.raises(CaseError) as err:
        check_settings(**settings)
    _assert_message(err.value, needles)
    check_settings(draws=1000, tune=0, chains=4, seed=0, target_accept=0.99, workers=None)
