"""The command line end to end: outputs, exit codes, reproducibility, reloading."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from forecasting import Forecast
from forecasting.cli import main

TINY = """
[case]
name = "tiny"
unit = "troops"
start = 2024-10-01
horizon = 2024-11-15
trajectory = "random_walk"

[[reports]]
date = 2024-10-10
source = "A"
claim = "approximately"
value = 2000

[[reports]]
date = 2024-10-20
source = "B"
claim = "up_to"
value = 3000

[[reports]]
date = 2024-10-25
source = "A"
claim = "between"
low = 2500
high = 4000

[[reports]]
date = 2024-10-25
source = "B"
claim = "projection"
value = 8000
target = 2024-11-10
"""
FAST = ["--draws", "300", "--tune", "300", "--chains", "2", "--quiet"]


@pytest.fixture(scope="module")
def tiny_case(tmp_path_factory):
    p = tmp_path_factory.mktemp("case") / "tiny.toml"
    p.write_text(TINY)
    return p


@pytest.fixture(scope="module")
def tiny_run(tiny_case, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    rc = main(["run", str(tiny_case), "--out", str(out), "--seed", "5", "--allow-unconverged", "--compare", *FAST])
    return rc, out


def test_run_writes_every_output(tiny_run):
    rc, out = tiny_run
    assert rc == 0
    for name in ("trajectory.csv", "sources.csv", "diagnostics.json", "posterior.nc", "trajectory.png"):
        assert (out / name).is_file(), name
    traj = pd.read_csv(out / "trajectory.csv")
    assert list(traj.columns) == ["date", "mean", "q05", "q25", "q50", "q75", "q95"]
    assert len(traj) == 46 and traj.date.iloc[0] == "2024-10-01" and traj.date.iloc[-1] == "2024-11-15"
    q = traj[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (q[:, 1:] >= q[:, :-1]).all() and (q > 0).all()
    diag = json.loads((out / "diagnostics.json").read_text())
    assert {"rhat_max", "ess_bulk_min", "divergences", "converged"} <= diag.keys()
    comparison = pd.read_csv(out / "model_comparison.csv", index_col=0)
    assert set(comparison.index) == {"random_walk", "saturating"}
    assert {"elpd_loo", "p_loo", "elpd_diff", "weight", "se", "warning"} <= set(comparison.columns)
    assert comparison["elpd_diff"].min() == 0 and (comparison["weight"].between(0, 1)).all()
    sources = pd.read_csv(out / "sources.csv")
    assert set(sources.source) == {"A", "B"}
    assert (sources.bias_q05 <= sources.bias_median).all() and (sources.bias_median <= sources.bias_q95).all()


def test_same_seed_gives_identical_csv(tiny_run, tiny_case, tmp_path):
    _, first = tiny_run
    again = tmp_path / "again"
    assert main(["run", str(tiny_case), "--out", str(again), "--seed", "5", "--allow-unconverged", *FAST]) == 0
    for name in ("trajectory.csv", "sources.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_saved_posterior_rebuilds_tables_exactly(tiny_run, tmp_path):
    _, out = tiny_run
    rebuilt = tmp_path / "rebuilt"
    assert main(["tables", str(out / "posterior.nc"), "--out", str(rebuilt), "--quiet"]) == 0
    for name in ("trajectory.csv", "sources.csv", "diagnostics.json"):
        assert (out / name).read_bytes() == (rebuilt / name).read_bytes(), name
    f = Forecast.load(out / "posterior.nc")
    assert f.case.name == "tiny" and len(f.case.reports) == 4


def test_unconverged_run_exits_3_and_flags(tiny_case, tmp_path):
    out = tmp_path / "short"
    # 10 draws cannot reach a bulk ESS of 400
    args = ["run", str(tiny_case), "--out", str(out), "--draws", "10", "--tune", "50",
            "--chains", "2", "--quiet"]
    assert main(args) == 3
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["converged"] is False and any("ESS" in p for p in diag["problems"])


def test_other_case_directory_is_not_overwritten(tiny_run, tmp_path):
    _, out = tiny_run
    other = tmp_path / "other.toml"
    other.write_text(TINY.replace('name = "tiny"', 'name = "other"'))
    before = (out / "trajectory.csv").read_bytes()
    assert main(["run", str(other), "--out", str(out), *FAST]) == 2
    assert (out / "trajectory.csv").read_bytes() == before


@pytest.mark.parametrize(
    "content,words",
    [
        (TINY.replace('claim = "up_to"', 'claim = "upto"'), 'reports[1].claim: unknown claim kind'),
        (TINY.replace("value = 2000", "value = -2000"), "reports[0].value"),
        (TINY.replace("[case]", "[case\n"), "invalid TOML"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, content, words):
    p = tmp_path / "bad.toml"
    p.write_text(content)
    res = subprocess.run([sys.executable, "-m", "forecasting.cli", "run", str(p), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert str(p) in res.stderr and words in res.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_builtin_case_default_settings_converge(tmp_path):
    """The flagship case with default settings: zero divergences, R-hat <= 1.01, ESS >= 400 every day."""
    out = tmp_path / "flagship"
    assert main(["run", "--out", str(out), "--seed", "1", "--quiet", "--what-if", "reaches=15000@2024-12-01",
                 "--what-if", "prevent=combat"]) == 0
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["divergences"] == 0
    assert diag["rhat_max"] <= 1.01
    assert diag["ess_bulk_min_trajectory"] >= 400 and diag["ess_bulk_min"] >= 400
    scen = pd.read_csv(out / "scenarios.csv")
    assert list(scen.columns[:6]) == ["scenario", "question", "resolves_by", "probability", "lower", "upper"]
    assert len(scen) >= 7 and (scen.se < 0.01).all()
    assert ((scen.lower <= scen.probability) & (scen.probability <= scen.upper)).all()
    for name in ("scenarios.png", "scenario_curves.png", "scenario_joint.csv", "sensitivity.csv", "sensitivity.png"):
        assert (out / name).is_file(), name
    whatif = pd.read_csv(out / "whatif.csv")
    prevented = whatif[whatif.condition == "combat does not happen"].set_index("scenario")
    assert prevented.loc["combat", "what_if"] == 0
    # combat's children have multiplier ranges above 1: preventing it never raises them
    for child in ("us_long_range", "western_aid_citing", "beyond_kursk"):
        assert prevented.loc[child, "change"] <= 0


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("reaches=10000@2024-12-01", {"reaches": (10000.0, "2024-12-01")}),
        ("stays_below=3,000", {"stays_below": 3000.0}),
        ("event=treaty_in_force@2024-11-01", {"event": "treaty_in_force", "event_on": "2024-11-01"}),
        ("prevent=combat", {"prevent": "combat"}),
    ],
)
def test_what_if_specs_parse_without_eval(spec, expected):
    from forecasting.cli import parse_what_if

    assert parse_what_if(spec) == expected


@pytest.mark.parametrize("spec", ["reach=5", "reaches=__import__('os')", "prevent=combat@2024-11-01", "nothing"])
def test_bad_what_if_is_a_case_error(spec):
    from forecasting import CaseError
    from forecasting.cli import parse_what_if

    with pytest.raises(CaseError, match="--what-if"):
        parse_what_if(spec)
