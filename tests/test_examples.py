"""The example scripts run as a user would run them (small settings, in a fresh folder)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMALL = ["--draws", "300", "--tune", "300", "--chains", "2", "--sim-draws", "400"]


def _run(script, tmp_path, *extra):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *SMALL, "--out", "out", *extra], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return tmp_path / "out", proc.stdout


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    tested = {"flagship_what_if_sweep.py", "case_from_csv.py", "batch_of_cases.py"} | (
        {"backtest.py"} if (EXAMPLES / "backtest.py").exists() else set())
    assert scripts == tested


@pytest.mark.slow
def test_flagship_what_if_sweep(tmp_path):
    out, _ = _run("flagship_what_if_sweep.py", tmp_path)
    for name in ("report.html", "report.md", "whatif.csv", "whatif.png", "sweep.csv", "sweep.png", "scenarios.csv"):
        assert (out / name).is_file(), name
    sweep = pd.read_csv(out / "sweep.csv")
    levels = sorted(sweep.reaches.unique())
    assert len(levels) >= 3
    # P(the level reaches N by a date) is the share of the same posterior draws: never larger for a larger N
    p = sweep.groupby("reaches").condition_probability.first().loc[levels].to_numpy()
    assert (p[1:] <= p[:-1]).all() and 0 < p[-1] and p[0] <= 1
    assert {"question", "resolves_by", "what_if", "what_if_lower", "what_if_upper", "se_what_if"} <= set(sweep)
    assert (sweep.what_if_lower <= sweep.what_if_upper).all()


@pytest.mark.slow
def test_case_from_csv(tmp_path):
    out, stdout = _run("case_from_csv.py", tmp_path)
    with open(EXAMPLES / "data" / "nk_reports.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["note"].strip() for r in rows)  # every shipped figure carries its citation
    evidence = (out / "report.md").read_text(encoding="utf-8").split("## Evidence")[1].split("## ")[0]
    assert sum(line.startswith("| ") for line in evidence.splitlines()) == len(rows) + 1
    traj = pd.read_csv(out / "trajectory.csv")
    import re

    printed = float(re.search(r"median ([\d,]+) troops", stdout).group(1).replace(",", ""))
    assert abs(printed - traj.q50.iloc[-1]) <= 1  # the CSV keeps 6 significant digits, the line none


def test_case_from_csv_reports_a_bad_cell(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,source,claim,value\n2024-10-20,US Pentagon,approximately,lots\n")
    proc = subprocess.run([sys.executable, str(EXAMPLES / "case_from_csv.py"), "--csv", str(bad), *SMALL],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert f"{bad}: row 2.value" in proc.stderr


@pytest.mark.slow
def test_batch_of_cases(tmp_path):
    out, _ = _run("batch_of_cases.py", tmp_path)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.case) == ["nk_as_of_2024-10-25", "nk_as_of_2024-11-15", "nk_as_of_2025-01-31", "simulated"]
    used = summary.reports_used.iloc[:3].to_numpy()
    assert (used[1:] > used[:-1]).all()  # later forecast dates see more reports
    assert summary.truth.iloc[:3].isna().all() and summary.truth.iloc[3] > 0
    for name in summary.case:
        assert (out / name / "report.html").is_file()


@pytest.mark.slow
def test_backtest(tmp_path):
    if not (EXAMPLES / "backtest.py").exists():
        pytest.skip("no backtest example")
    out, stdout = _run("backtest.py", tmp_path, "--every", "42D")
    summary = pd.read_csv(out / "backtest_summary.csv")
    assert {"model", "no_bias", "latest"} <= set(summary.method)
    scores = pd.read_csv(out / "backtest.csv")
    vintages = sorted(scores.vintage.unique())
    assert len(vintages) >= 3 and f"{len(vintages)} vintages" in stdout
    # a vintage is scored only against reports made after it (`report` is the position in the case)
    import forecasting as fc

    reports = fc.builtin_case().reports
    later = scores[scores.against == "report"]
    made = pd.to_datetime([str(reports[int(i)].date) for i in later.report])
    assert len(later) and (made > pd.to_datetime(later.vintage).to_numpy()).all()
