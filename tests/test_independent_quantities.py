"""Independent quantities end to end: their own fit, scenarios driven by them, save/load, `forecasting run`."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from forecasting import Case, CaseError, Driver, Forecast, Report, Scenario, Source, fit, load_case, simulate
from forecasting import quantities as qty
from forecasting.quantities import Quantity

START = dt.date(2024, 10, 1)
DAYS = 61
HORIZON = START + dt.timedelta(days=DAYS - 1)
BY = "2024-11-25"  # the scenarios' resolution date


def troops(day):
    return 4000 * 2 ** (day / (DAYS - 1))  # 4,000 to 8,000


def casualties(day):
    return 200 * 3 ** (day / (DAYS - 1))  # 200 to 600: far below the troops throughout


def small_case(scenarios=()):
    rng = np.random.default_rng(11)
    reports = []
    for k, day in enumerate(range(2, DAYS, 3)):  # 20 troop reports
        src = "ABC"[k % 3]
        reports.append(Report(START + dt.timedelta(days=day), src, "approximately",
                              round(troops(day) * np.exp(0.1 * rng.standard_normal()))))
    for k, day in enumerate(range(4, DAYS, 5)):  # 12 casualty reports
        src = "AB"[k % 2]
        reports.append(Report(START + dt.timedelta(days=day), src, "approximately",
                              round(casualties(day) * np.exp(0.1 * rng.standard_normal())), quantity="casualties"))
    return Case("independent", "troops", START, HORIZON, tuple(reports),
                sources=tuple(Source(n, grade="B2") for n in "ABC"), trajectory="random_walk",
                quantity="deployed_total", scenarios=tuple(scenarios),
                quantities=(Quantity("casualties", "independent", unit="casualties",
                                     description="killed and wounded"),))


def aid(level, *, name="aid", effect=None, base_rate=None):
    return Scenario(name=name, question="Will new aid follow high casualties?", family="military_aid",
                    resolves_by=BY, base_rate=base_rate,
                    driver=None if level is None else Driver(level_above=level, quantity="casualties", effect=effect,
                                                             window_days=7))


@pytest.fixture(scope="module")
def fitted():
    return fit(small_case(), draws=300, tune=300, chains=2, seed=2)


# ---------------------------------------------------------------- validation (no fit)
def test_driver_may_name_an_independent_quantity():
    case = small_case([aid(400)])
    assert case.scenarios[0].driver.quantity == "casualties"


def test_driver_naming_an_unknown_quantity_is_a_case_error(tmp_path):
    with pytest.raises(CaseError) as e:
        small_case([aid(400)]).with_(scenarios=(Scenario(
            name="x", question="?", family="trajectory", resolves_by=BY,
            driver=Driver(level_above=5, quantity="casualtes")),))
    assert "scenarios[0].driver.quantity" in str(e.value) and 'did you mean "casualties"' in str(e.value)
    p = _case_file(tmp_path)
    assert load_case(p).scenarios[0].driver.quantity == "casualties"
    p.write_text(p.read_text().replace('quantity = "casualties", level_above', 'quantity = "casualty", level_above'))
    with pytest.raises(CaseError) as e:
        load_case(p)
    msg = str(e.value)
    assert "case.toml" in msg and "scenarios[0].driver.quantity" in msg and "'casualty'" in msg


def test_no_independent_quantity_no_related_fit(monkeypatch):
    import importlib

    fit_module = importlib.import_module("forecasting.fit")
    case = small_case().with_(quantities=(), reports=tuple(r for r in small_case().reports if r.quantity is None))
    called = []
    monkeypatch.setattr(fit_module, "fit", lambda *a, **k: called.append(1))
    assert fit_module.fit_related(case, draws=10, tune=10, chains=1, sampler="nutpie", target_accept="auto",
                                  progress=False) == {}
    assert not called


# ---------------------------------------------------------------- fitted
@pytest.mark.slow
def test_fit_attaches_the_independent_quantity(fitted):
    assert set(fitted.related) == {"casualties"}
    other = fitted.related["casualties"]
    assert other.case == qty.independent_cases(fitted.case)["casualties"] and other.case.unit == "casualties"
    assert other.related == {}
    assert other.level_draws.shape == fitted.level_draws.shape
    assert list(other.design.dates) == list(fitted.design.dates)
    assert other.idata.attrs["seed"] != fitted.idata.attrs["seed"]
    # its own data: the casualty trajectory sits near 200-600, the troops' near 4,000-8,000
    mid = other.trajectory()["q50"].iloc[DAYS // 2]
    assert 150 < mid < 800 and fitted.trajectory()["q50"].iloc[DAYS // 2] > 3000
    diag = fitted.diagnostics()
    assert set(diag["quantities"]) == {"casualties"}
    assert diag["quantities"]["casualties"]["draws"] == diag["draws"]
    assert diag["converged"] == (not diag["problems"])


@pytest.mark.slow
def test_unconverged_independent_fit_flags_the_whole(fitted):
    other = fitted.related["casualties"]
    one_chain = Forecast(other.case, other.idata.sel(chain=[0]))  # R-hat cannot be computed: unconverged
    joined = Forecast(fitted.case, fitted.idata, design=fitted.design, related={"casualties": one_chain})
    diag = joined.diagnostics()
    assert not diag["converged"] and not diag["quantities"]["casualties"]["converged"]
    assert any(p.startswith("casualties: R-hat cannot be computed") for p in diag["problems"])


@pytest.mark.slow
def test_scenario_follows_the_independent_quantity(fitted):
    n = fitted.level_draws.shape[0]
    cas = fitted.related["casualties"].level_draws
    by = fitted.design.dates <= pd.Timestamp(BY)
    peak = cas[:, by].max(axis=1)
    level = float(np.median(peak))  # half the casualty draws pass it by the resolution date

    def p(scenario):
        res = simulate(fitted, [scenario], draws=n, replicates=1, seed=0)
        return float(res.table()["probability"].iloc[0])

    # a pure trajectory event happens the first day the condition holds: exactly this fraction of draws
    assert p(aid(level)) == pytest.approx(float((peak >= level).mean()), abs=1e-12)
    assert 0.2 < p(aid(level)) < 0.8
    # the primary is far above every casualty level: read through it, the event would be certain
    high_level = 2 * peak.max()  # above every casualty draw, below every troop draw
    assert fitted.level_draws[:, by].max(axis=1).min() > high_level
    # with a base rate and a strong effect: far below casualties' level -> near 1; far above -> the base rate
    base = (0.05, 0.2)
    no_driver = p(aid(None, base_rate=base))
    low = p(aid(0.1 * peak.min(), effect=(0.95, 0.999), base_rate=base))
    high = p(aid(high_level, effect=(0.95, 0.999), base_rate=base))
    assert low > 0.99
    assert high == pytest.approx(no_driver, abs=1e-12)  # the driver never fires: same streams, same probability
    assert no_driver < 0.5


@pytest.mark.slow
def test_missing_related_fit_is_a_case_error(fitted):
    bare = Forecast(fitted.case, fitted.idata, design=fitted.design)
    with pytest.raises(CaseError) as e:
        simulate(bare, [aid(400)], draws=100, seed=0)
    assert "scenario 'aid'.driver.quantity" in str(e.value) and "'casualties'" in str(e.value)


@pytest.mark.slow
def test_save_load_round_trip(fitted, tmp_path):
    path = tmp_path / "posterior.nc"
    fitted.save(path)
    back = Forecast.load(path)
    assert set(back.related) == {"casualties"} and back.case == fitted.case
    other, again = fitted.related["casualties"], back.related["casualties"]
    assert again.case == other.case
    np.testing.assert_array_equal(again.level_draws, other.level_draws)
    np.testing.assert_array_equal(back.level_draws, fitted.level_draws)
    pd.testing.assert_frame_equal(again.sources(), other.sources())
    assert back.diagnostics() == fitted.diagnostics()
    assert "related" not in back.idata.groups()
    # a file written without related fits (older versions) still loads
    Forecast(fitted.case, fitted.idata, design=fitted.design).save(tmp_path / "old.nc")
    assert Forecast.load(tmp_path / "old.nc").related == {}


CASE_FILE = """
[case]
name = "independent"
unit = "troops"
start = 2024-10-01
horizon = 2024-11-30
quantity = "deployed_total"
trajectory = "random_walk"

[[quantities]]
name = "casualties"
relation = "independent"
unit = "casualties"

[[scenarios]]
name = "aid"
question = "Will new aid follow 300 casualties by 25 November?"
family = "military_aid"
resolves_by = 2024-11-25
base_rate = [0.05, 0.2]
driver = { quantity = "casualties", level_above = 300, for_days = 3, effect = [0.5, 0.9], window_days = 14 }
"""


def _case_file(tmp_path):
    rows = []
    for r in small_case().reports:
        q = f'quantity = "{r.quantity}"\n' if r.quantity else ""
        rows.append(f'[[reports]]\ndate = {r.date}\nsource = "{r.source}"\nclaim = "approximately"\n'
                    f"value = {r.value:g}\n{q}")
    p = tmp_path / "case.toml"
    p.write_text(CASE_FILE + "\n" + "\n".join(rows))
    return p


@pytest.mark.slow
def test_run_writes_each_quantity(tmp_path):
    from forecasting.cli import main

    out = tmp_path / "out"
    rc = main(["run", str(_case_file(tmp_path)), "--out", str(out), "--seed", "3", "--draws", "200", "--tune", "200",
               "--chains", "2", "--quiet", "--allow-unconverged"])
    assert rc == 0
    for name in ("trajectory_casualties.csv", "trajectory_casualties.png", "sources_casualties.csv",
                 "scenarios.csv", "report.html", "report.md"):
        assert (out / name).is_file(), name
    traj = pd.read_csv(out / "trajectory_casualties.csv")
    assert len(traj) == DAYS and traj["q50"].median() < 1000
    assert set(pd.read_csv(out / "sources_casualties.csv")["source"]) == {"A", "B"}
    diag = json.loads((out / "diagnostics.json").read_text())
    assert set(diag["quantities"]) == {"casualties"}
    assert diag["converged"] == (not diag["problems"])
    if not diag["quantities"]["casualties"]["converged"]:
        assert not diag["converged"]
    md = (out / "report.md").read_text()
    assert "## Independent quantity: casualties" in md and "(trajectory_casualties.png)" in md
    html = (out / "report.html").read_text()
    assert 'id="quantity-casualties"' in html and 'href="#quantity-casualties"' in html
    # the saved posterior carries the independent fit: `forecasting tables` rebuilds its files
    rebuilt = tmp_path / "rebuilt"
    assert main(["tables", str(out / "posterior.nc"), "--out", str(rebuilt), "--quiet"]) == 0
    for name in ("trajectory_casualties.csv", "sources_casualties.csv"):
        assert (rebuilt / name).read_text() == (out / name).read_text(), name


def test_driver_of_an_independent_quantity_without_reports_yet_does_not_hold():
    """Before the first claim about an independent quantity there is no fit of it: its driver's
    condition does not hold, so the probability is the one without the driver (no error)."""
    import dataclasses

    import forecasting as fc
    from forecasting.scenarios import simulate

    case = fc.builtin_case(as_of="2024-11-07")  # the first casualty report is of 17 Dec 2024
    assert not any(r.quantity == "casualties" for r in case.active_reports)
    f = fc.fit(case, draws=200, tune=200, chains=2, seed=3)
    assert f.related == {}
    rok = next(s for s in case.scenarios if s.name == "rok_lethal_aid")
    with_driver = simulate(f, [s for s in case.scenarios], draws=1000, seed=2).table().set_index("scenario")
    without = [dataclasses.replace(s, driver=None) if s.name == "rok_lethal_aid" else s for s in case.scenarios]
    no_driver = simulate(f, without, draws=1000, seed=2).table().set_index("scenario")
    assert rok.driver.quantity == "casualties"
    assert with_driver.loc["rok_lethal_aid", "probability"] == no_driver.loc["rok_lethal_aid", "probability"]
