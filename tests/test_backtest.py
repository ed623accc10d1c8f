"""Backtests over vintages: no leakage, finite scores, truth scoring, outcomes, CLI, plots."""

import dataclasses
import datetime as dt
import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import forecasting as fc
from forecasting import CaseError, Outcome
from forecasting.backtest import (
    Backtest,
    Settings,
    _scenarios_at,
    backtest,
    baseline_figures,
    no_bias_case,
    score_vintage,
    vintages,
)
from forecasting.cli import main
from forecasting.simulation import simulate_case

SMALL = Settings(draws=200, tune=200, chains=2, seed=3, scenario_draws=400)


@pytest.fixture(scope="module")
def simulated():
    case, truth = simulate_case(rng=np.random.default_rng(11), days=60, n_reports=24)
    return case, truth


@pytest.fixture(scope="module")
def sim_backtest(simulated, tmp_path_factory):
    case, truth = simulated
    out = tmp_path_factory.mktemp("bt")
    return backtest(case, every="14D", truth=truth, settings=SMALL, workers=1, out=out), out


def test_vintages_and_validation():
    case = fc.builtin_case()
    v = vintages(case, "7D")
    assert v[0] == dt.date(2024, 10, 10) and v[1] == dt.date(2024, 10, 17)
    assert v[-1] < max(r.date for r in case.reports)
    assert vintages(case, "14D", start="2024-11-01", end="2024-11-30") == [dt.date(2024, 11, 1),
                                                                            dt.date(2024, 11, 15),
                                                                            dt.date(2024, 11, 29)]
    with pytest.raises(CaseError, match="every"):
        vintages(case, "weekly")
    with pytest.raises(CaseError, match="every"):
        vintages(case, "1h")


def test_baselines_by_hand():
    # reports made by 24 Oct 2024: figures 1, 10000, 1500, 12000, 11000, 1, 12000, 3000, 3000,
    # 10000, 12000, 2000 -> median (3000 + 10000) / 2; latest level claim: HUR ~12,000 (24 Oct)
    b = baseline_figures(fc.builtin_case(), "2024-10-24")
    assert b == {"latest": 12000.0, "median": 6500.0, "max": 12000.0}


def test_no_bias_case_keeps_everything_but_the_biases():
    case = fc.builtin_case()
    nb = no_bias_case(case)
    assert all(s.bias == (0.99, 1.01) for s in nb.sources)
    assert [s.name for s in nb.sources] == [s.name for s in case.sources]
    assert nb.reports == case.reports and nb.scenarios == case.scenarios


def test_no_leakage(simulated):
    """A vintage's fit is the same whatever was reported after it."""
    case, _ = simulated
    v = dt.date(2024, 1, 25)
    changed = tuple(dataclasses.replace(r, value=r.value * 10) if r.date > v and r.value else r for r in case.reports)
    a = score_vintage(case, v, SMALL)
    b = score_vintage(case.with_(reports=changed), v, SMALL)
    assert all(case.reports[i].date <= v for i in a["reports_used"])
    assert a["reports_used"] == [i for i, r in enumerate(case.reports) if r.date <= v]
    assert a["trajectory"] == b["trajectory"]
    assert a["diagnostics"] == b["diagnostics"]
    # ...but the later reports it is scored against did change
    assert [r["value"] for r in a["rows"]] != [r["value"] for r in b["rows"]]


def test_scores_finite_and_coverage_in_range(sim_backtest, simulated):
    bt, _ = sim_backtest
    case, _ = simulated
    s = bt.scores
    assert set(s["method"]) == {"model", "no_bias", "latest", "median", "max"}
    later = s[(s["against"] == "report") & (s["method"] == "model")]
    for v, g in later.groupby("vintage"):
        assert all(case.reports[i].date > dt.date.fromisoformat(v) for i in g["report"])
    point = later[later["claim"].isin(["approximately", "projection"])]
    assert np.isfinite(point[["crps", "log_score", "pit"]].to_numpy()).all()
    bounds = later[~later["claim"].isin(["approximately", "projection"])]
    assert ((bounds["probability"] > 0) & (bounds["probability"] <= 1)).all()
    truth = s[(s["against"] == "truth") & (s["method"] == "model")]
    assert set(truth["lead_days"]) <= {0, 7, 14, 28} and len(truth) > 0
    assert np.isfinite(truth[["crps", "log_score"]].to_numpy()).all()
    summ = bt.summary()
    m = summ[(summ["method"] == "model") & (summ["against"] == "truth")].iloc[0]
    assert 0 <= m["coverage50"] <= 1 and 0 <= m["coverage90"] <= 1
    assert "crps_skill_vs_latest" in summ.columns and np.isfinite(m["crps_skill_vs_latest"])


def test_rerun_skips_finished_vintages(sim_backtest, simulated):
    bt, out = sim_backtest
    case, truth = simulated
    files = sorted((out / "vintages").glob("*.json"))
    assert len(files) == len(bt.vintages)
    stamp = {f.name: f.stat().st_mtime_ns for f in files}
    again = backtest(case, every="14D", truth=truth, settings=SMALL, workers=1, out=out)
    assert {f.name: f.stat().st_mtime_ns for f in files} == stamp
    pd.testing.assert_frame_equal(again.scores, bt.scores)
    with pytest.raises(CaseError, match="another run"):
        backtest(case, every="14D", truth=truth, settings=dataclasses.replace(SMALL, seed=4), workers=1, out=out)


def test_outcomes_condition_and_open_questions():
    case = fc.builtin_case()
    scen = {s.name: s for s in _scenarios_at(case, dt.date(2024, 11, 7))}
    assert scen["combat"].observed == dt.date(2024, 11, 5)
    assert scen["treaty_in_force"].observed is None
    r = score_vintage(case, "2024-11-07", dataclasses.replace(SMALL, methods=("model",)))
    names = {row["scenario"] for row in r["scenarios"]}
    assert "combat" not in names and "treaty_in_force" in names and "beyond_kursk" in names
    for row in r["scenarios"]:
        assert 0 <= row["probability"] <= 1 and math.isfinite(row["log_score"])
        assert row["brier"] == pytest.approx((row["probability"] - row["outcome"]) ** 2)


def test_outcome_validation(tmp_path):
    case = fc.builtin_case()
    with pytest.raises(CaseError, match=r'outcomes\[0\].scenario.*did you mean "combat"'):
        case.with_(outcomes=(Outcome("combt", True, "2024-11-05"),))
    with pytest.raises(CaseError, match="after the scenario's resolves_by"):
        case.with_(outcomes=(Outcome("western_aid_citing", True, "2025-01-05"),))
    with pytest.raises(CaseError, match="second outcome"):
        case.with_(outcomes=(Outcome("combat", False), Outcome("combat", False)))
    with pytest.raises(CaseError, match="Outcome.date: missing"):
        Outcome("combat", True)
    with pytest.raises(CaseError, match="resolved"):
        Outcome("combat", "perhaps")
    text = fc.builtin_case_path().read_text(encoding="utf-8").replace('scenario = "alliance_shift"',
                                                                       'scenario = "alliance_shfit"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError, match=r"bad.toml: outcomes\[9\].scenario: unknown scenario 'alliance_shfit'"):
        fc.load_case(bad)
    bad.write_text(fc.builtin_case_path().read_text(encoding="utf-8") + '\n[[outcomes]]\nscenario = "combat"\n'
                   'resolvd = true\n', encoding="utf-8")
    with pytest.raises(CaseError, match=r"outcomes\[10\].resolvd.*did you mean \"resolved\""):
        fc.load_case(bad)


def test_flagship_outcomes_are_cited():
    case = fc.builtin_case()
    assert {o.scenario for o in case.outcomes} == {s.name for s in case.scenarios}
    assert all(len(o.note) > 80 for o in case.outcomes)


def test_plots(sim_backtest, simulated):
    from forecasting.plotting_evaluation import pit_histogram, vintage_plot

    bt, _ = sim_backtest
    _, truth = simulated
    ax = pit_histogram(bt)
    assert ax.get_xlabel().startswith("PIT") and len(ax.patches) >= 10
    axes = vintage_plot(bt, truth=truth["log_level"])
    assert "vintage" in axes[-1].get_xlabel() and axes[0].get_yscale() == "log"
    assert any(line.get_label() == "true level" for line in axes[0].get_lines())
    plt.close("all")


def test_reliability_plot_from_results():
    from forecasting.plotting_evaluation import reliability_diagram

    rows = [{"vintage": "2024-10-10", "method": "model", "scenario": f"s{i}", "resolves_by": "2025-03-31",
             "probability": p, "se": 0.01, "outcome": o, "outcome_date": "2025-03-31", "brier": (p - o) ** 2,
             "log_score": 0.0} for i, (p, o) in enumerate([(0.1, 0), (0.8, 1), (0.9, 1), (0.3, 1)])]
    bt = Backtest(fc.builtin_case(), {"2024-10-10": {"rows": [], "scenarios": rows, "trajectory": [],
                                                     "diagnostics": {}}})
    ax = reliability_diagram(bt)
    assert "forecast probability" in ax.get_xlabel()
    assert len(ax.get_lines()) >= 2
    summ = bt.scenario_summary()
    assert summ.loc[0, "brier"] == pytest.approx(np.mean([0.01, 0.04, 0.01, 0.49]))
    plt.close("all")


CASE_TOML = """
[case]
name = "test"
unit = "troops"
start = 2024-01-01
horizon = 2024-03-31
trajectory = "random_walk"

[[reports]]
date = 2024-01-05
source = "A"
claim = "approximately"
value = 1000

[[reports]]
date = 2024-01-20
source = "B"
claim = "at_least"
value = 900

[[reports]]
date = 2024-02-10
source = "A"
claim = "approximately"
value = 1300

[[reports]]
date = 2024-03-01
source = "B"
claim = "approximately"
value = 1500
"""


def test_cli_backtest_writes_outputs_and_reruns(tmp_path, capsys):
    path = tmp_path / "case.toml"
    path.write_text(textwrap.dedent(CASE_TOML), encoding="utf-8")
    out = tmp_path / "bt"
    args = [str(path), "--every", "21D", "--out", str(out), "--workers", "1", "--draws", "150", "--tune", "150",
            "--quiet", "--influence-date", "2024-02-15"]
    assert main(["backtest", *args]) == 0
    for name in ("backtest.csv", "backtest_summary.csv", "pit.png", "vintages.png", "influence.csv", "influence.png"):
        assert (out / name).exists(), name
    df = pd.read_csv(out / "backtest.csv")
    assert set(df["vintage"]) == {"2024-01-05", "2024-01-26", "2024-02-16"}
    stamps = {f: f.stat().st_mtime_ns for f in (out / "vintages").glob("*.json")}
    assert main(["backtest", *args]) == 0
    assert {f: f.stat().st_mtime_ns for f in (out / "vintages").glob("*.json")} == stamps


@pytest.mark.parametrize("argv, words", [
    (["--every", "fortnightly"], "every"),
    (["--draws", "0"], "--draws"),
    (["--start", "2030-01-01"], "no vintage"),
    (["no_such_case.toml"], "no such file"),
    (["--every", "28D", "--workers", "1", "--draws", "50", "--tune", "50", "--influence-date", "2031-01-01"],
     "--influence-date"),
])
def test_cli_backtest_bad_input_exits_2(argv, words, tmp_path, capsys):
    assert main(["backtest", *argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert words in capsys.readouterr().err


def test_claims_of_sources_the_vintage_has_not_heard_from():
    """A later report from a new source is scored through the fitted population of sources."""
    case = fc.builtin_case()
    v = dt.date(2024, 10, 17)
    r = score_vintage(case, v, dataclasses.replace(SMALL, methods=("model",)))
    seen = {case.reports[i].source for i in r["reports_used"]}
    new = [row for row in r["rows"] if row["source"] not in seen]
    assert {row["source"] for row in new} >= {"US Pentagon", "UK Ministry of Defence"}
    assert all(math.isfinite(row["log_score"]) for row in new)
