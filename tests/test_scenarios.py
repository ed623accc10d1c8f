"""Scenario engine: probabilities, joint tables, what-ifs, sensitivity and case-file parsing.

No MCMC: the forecast is a stand-in with synthetic trajectory draws.
"""

import dataclasses
import datetime as dt
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecasting import CaseError, builtin_case, load_case
from forecasting.casefile import case_from_plain, case_to_dict
from forecasting.scenarios import (
    Driver,
    Scenario,
    daily_hazard,
    sensitivity,
    simulate,
    topological_order,
    what_if,
)

START, END = dt.date(2024, 10, 1), dt.date(2025, 3, 31)
DATES = pd.date_range(START, END)
SMALL = {"draws": 800, "replicates": 5}


def trajectories(n=400, seed=1):
    """Saturating build-ups to an uncertain ceiling around 11,000."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(DATES))
    ceiling = np.exp(rng.normal(np.log(11000), 0.35, n))
    speed = rng.uniform(8, 60, n)
    return ceiling[:, None] * (1 - np.exp(-np.maximum(t - 5, 0)[None, :] / speed[:, None])) + 1.0


def stand_in(scenarios=(), levels=None, as_of=None):
    levels = trajectories() if levels is None else levels
    case = SimpleNamespace(scenarios=tuple(scenarios), as_of=as_of)
    return SimpleNamespace(level_draws=levels, design=SimpleNamespace(dates=DATES), case=case)


def network(multiplier=(2.0, 6.0)):
    return (
        Scenario("treaty", "Treaty in force?", "diplomatic", END, base_rate=(0.2, 0.6)),
        Scenario("combat", "Direct combat?", "escalation", END, base_rate=(0.02, 0.15),
                 driver=Driver(level_above=5000, for_days=14, effect=(0.5, 0.95), window_days=60),
                 parents={"treaty": (1.0, 2.0)}),
        Scenario("beyond", "Beyond Kursk?", "escalation", END, base_rate=(0.01, 0.05),
                 parents={"combat": multiplier}),
        Scenario("aid", "Aid citing it?", "military_aid", dt.date(2024, 12, 31), base_rate=(0.05, 0.2),
                 parents={"combat": multiplier, "treaty": (1.0, 1.5)}),
    )


@pytest.fixture(scope="module")
def result():
    return simulate(stand_in(network()), seed=3)  # default settings


# ------------------------------------------------------------- probabilities
def test_probabilities_are_probabilities_and_precise(result):
    tab = result.table()
    assert list(tab.columns[:6]) == ["scenario", "question", "resolves_by", "probability", "lower", "upper"]
    for col in ("probability", "lower", "upper"):
        assert tab[col].between(0, 1).all()
    assert (tab["lower"] <= tab["upper"]).all()
    # the Monte Carlo standard error is reported and below 0.01 with default settings
    assert (tab["se"] < 0.01).all() and (tab["se"] <= result.se_bound).all() and result.se_bound < 0.01
    cur = result.curves()
    assert cur[["probability", "lower", "upper"]].stack().between(0, 1).all()
    for _, g in cur.groupby("scenario"):
        assert np.all(np.diff(g["probability"].values) >= 0), "P(event by date) never falls"
    joint = result.joint()
    assert joint[["p_a", "p_b", "p_a_and_b"]].stack().between(0, 1).all()
    assert joint[["p_b_given_a", "p_a_given_b"]].stack().dropna().between(0, 1).all()
    assert (joint[["se_a_and_b", "se_b_given_a", "se_a_given_b"]].stack().dropna()
            .where(joint[["p_b_given_a", "p_a_given_b"]].stack().notna(), 0) < 0.01).all()
    paths = result.paths(top=50)
    assert paths["probability"].between(0, 1).all() and paths["probability"].sum() <= 1 + 1e-12


def test_joint_is_coherent(result):
    joint = result.joint()
    assert len(joint) == 6
    assert (joint["p_a_and_b"] <= np.minimum(joint["p_a"], joint["p_b"]) + 1e-15).all()
    tab = result.table().set_index("scenario")["probability"]
    for _, row in joint.iterrows():
        assert row["p_a"] == pytest.approx(tab[row["a"]]) and row["p_b"] == pytest.approx(tab[row["b"]])
        if not np.isnan(row["p_b_given_a"]):
            assert row["p_b_given_a"] * row["p_a"] == pytest.approx(row["p_a_and_b"], abs=1e-12)
        if not np.isnan(row["p_a_given_b"]):
            assert row["p_a_given_b"] * row["p_b"] == pytest.approx(row["p_a_and_b"], abs=1e-12)
    r = joint.set_index(["a", "b"]).loc[("combat", "beyond")]
    assert result.conditional("beyond", given="combat") == pytest.approx(r["p_b_given_a"])
    # a child is likelier among the futures where its (multiplier > 1) parent happened
    assert r["p_b_given_a"] > r["p_b"]


def test_same_seed_same_table():
    f = stand_in(network())
    a, b = simulate(f, seed=7, **SMALL), simulate(f, seed=7, **SMALL)
    pd.testing.assert_frame_equal(a.table(), b.table())
    pd.testing.assert_frame_equal(a.joint(), b.joint())
    c = simulate(f, seed=8, **SMALL)
    assert not a.table()["probability"].equals(c.table()["probability"])


def test_base_rate_is_what_was_elicited():
    """A point base rate of 30% per 90 days gives 30% by day 90, with a degenerate interval."""
    s = Scenario("x", "X?", "escalation", START + dt.timedelta(days=89), base_rate=(0.3, 0.3))
    tab = simulate(stand_in([s]), draws=4000, replicates=5).table().iloc[0]
    assert tab["probability"] == pytest.approx(0.3, abs=4 * tab["se"])
    assert tab["lower"] == pytest.approx(0.3, abs=1e-6) and tab["upper"] == pytest.approx(0.3, abs=1e-6)
    assert daily_hazard(0.3, 90) * 90 == pytest.approx(-np.log(0.7))
    # parameter uncertainty shows in the interval
    wide = Scenario("x", "X?", "escalation", s.resolves_by, base_rate=(0.05, 0.8))
    t2 = simulate(stand_in([wide]), **SMALL).table().iloc[0]
    assert t2["upper"] - t2["lower"] > 0.5


def test_raising_a_threshold_never_raises_the_probability_of_reaching_it():
    levels = trajectories()
    thresholds = [2000, 5000, 8000, 10000, 12000, 15000, 30000]
    reach, driven, cond = [], [], []
    for x in thresholds:
        scen = [Scenario("reach", "Reaches x?", "trajectory", dt.date(2024, 12, 1), driver=Driver(level_above=x)),
                Scenario("driven", "Driven?", "escalation", END, base_rate=(0.01, 0.05),
                         driver=Driver(level_above=x, for_days=10, effect=(0.3, 0.9)))]
        tab = simulate(stand_in(scen, levels), **SMALL).table().set_index("scenario")["probability"]
        reach.append(tab["reach"])
        driven.append(tab["driven"])
        if x < 30000:
            cond.append(what_if(stand_in(scen, levels), reaches=(x, "2024-12-01"), **SMALL).condition_probability)
    assert np.all(np.diff(reach) <= 0) and np.all(np.diff(driven) <= 0) and np.all(np.diff(cond) <= 0)
    assert reach[0] > 0.9 and reach[-1] == 0
    day = (dt.date(2024, 12, 1) - START).days
    exact = [(levels[:, : day + 1] >= x).any(axis=1).mean() for x in thresholds]
    assert reach == pytest.approx(exact, abs=0.05)


# ------------------------------------------------------------------ what-ifs
@pytest.mark.parametrize("multiplier,direction", [((2.0, 6.0), 1), ((0.1, 0.5), -1)])
def test_fixing_a_parent_moves_children_in_the_documented_direction(multiplier, direction):
    f = stand_in(network(multiplier))
    forced = what_if(f, event="combat", **SMALL).table().set_index("scenario")
    assert forced.loc["combat", "what_if"] == 1
    for child in ("beyond", "aid"):
        assert direction * forced.loc[child, "change"] > 0
    assert forced.loc["treaty", "change"] == 0, "an intervention does not move the event's causes"
    prevented = what_if(f, prevent="combat", **SMALL).table().set_index("scenario")
    assert prevented.loc["combat", "what_if"] == 0
    for child in ("beyond", "aid"):
        assert direction * prevented.loc[child, "change"] < 0
    for t in (forced, prevented):
        assert t[["baseline", "what_if", "baseline_lower", "what_if_upper"]].stack().between(0, 1).all()


def test_trajectory_what_ifs_side_by_side():
    f = stand_in(network())
    hi = what_if(f, reaches=(10000, "2024-12-01"), **SMALL)
    lo = what_if(f, stays_below=(8000, END), **SMALL)
    assert 0 < hi.condition_probability < 1 and 0 < lo.condition_probability < 1
    assert "reaches 10,000" in hi.condition
    t_hi, t_lo = (w.table().set_index("scenario") for w in (hi, lo))
    assert t_hi.loc["combat", "what_if"] >= t_hi.loc["combat", "baseline"]
    assert t_lo.loc["combat", "what_if"] < t_lo.loc["combat", "baseline"]
    pd.testing.assert_series_equal(t_hi["baseline"], t_lo["baseline"])
    with pytest.raises(CaseError, match="no posterior trajectory draw"):
        what_if(f, stays_below=(1, END), **SMALL)
    with pytest.raises(CaseError, match='did you mean "combat"'):
        what_if(f, event="combta", **SMALL)
    with pytest.raises(CaseError, match="no what-if"):
        what_if(f, **SMALL)


def test_sensitivity_table():
    scen = network()
    sens = sensitivity(stand_in(scen), **SMALL)
    assert list(sens.columns) == ["parameter", "owner", "low", "high", "scenario", "baseline", "at_low", "at_high",
                                  "swing"]
    assert sens[["baseline", "at_low", "at_high"]].stack().between(0, 1).all()
    own = sens[sens["owner"] == sens["scenario"]]
    # a higher base rate or driver effect never lowers the event's own probability
    assert (own[own["parameter"].str.contains("base rate|once level")]["swing"] >= 0).all()
    # the parent multiplier range (2-6) raises the child at its high end
    row = sens[(sens["parameter"] == "beyond: hazard multiplier once combat happened") & (sens["scenario"] == "beyond")]
    assert row["swing"].iloc[0] > 0
    # upstream scenarios cannot move: no row for treaty from beyond's parameters
    assert sens[(sens["owner"] == "beyond") & (sens["scenario"] == "treaty")].empty
    assert len(sens[sens["owner"] == "treaty"]) == 4  # treaty's base rate moves treaty, combat, beyond, aid


# ----------------------------------------------------------------- observed
def test_observed_events_are_conditioned_on():
    scen = list(network())
    scen[1] = Scenario("combat", "Direct combat?", "escalation", END, base_rate=(0.02, 0.15),
                       parents={"treaty": (1.0, 2.0)}, observed=dt.date(2024, 11, 5))
    as_of = dt.date(2024, 11, 20)
    res = simulate(stand_in(scen, as_of=as_of), **SMALL)
    tab = res.table().set_index("scenario")
    assert tab.loc["combat", "probability"] == 1 and tab.loc["combat", "status"] == "observed"
    assert tab.loc["combat", "lower"] == 1
    cur = res.curves()
    c = cur[cur["scenario"] == "combat"].set_index("date")["probability"]
    assert c[dt.date(2024, 11, 4)] == 0 and c[dt.date(2024, 11, 5)] == 1
    t = cur[cur["scenario"] == "treaty"].set_index("date")["probability"]
    assert t[as_of] == 0, "unobserved events cannot happen before the forecast date"
    # a backtest as of before the observation forecasts the event instead
    early = simulate(stand_in(scen, as_of=dt.date(2024, 10, 15)), **SMALL).table().set_index("scenario")
    assert early.loc["combat", "status"] == "forecast" and early.loc["combat", "probability"] < 1


def test_case_without_scenarios_still_works():
    res = simulate(stand_in([]), **SMALL)
    assert res.table().empty and res.joint().empty and res.paths().empty and res.curves().empty
    assert list(res.table().columns[:6]) == ["scenario", "question", "resolves_by", "probability", "lower", "upper"]


# ------------------------------------------------------------- validation
def test_graph_errors_name_the_scenario():
    a = Scenario("a", "A?", "escalation", END, base_rate=(0.1, 0.2), parents={"c": (1, 2)})
    b = Scenario("b", "B?", "escalation", END, base_rate=(0.1, 0.2), parents={"a": (1, 2)})
    c = Scenario("c", "C?", "escalation", END, base_rate=(0.1, 0.2), parents={"b": (1, 2)})
    with pytest.raises(CaseError, match=r"scenarios\[\d\]\.parents: the scenarios form a cycle: .*a.*b.*c") as e:
        simulate(stand_in([a, b, c]), **SMALL)
    assert e.value.field == "parents"
    with pytest.raises(CaseError, match=r"scenarios\[0\]\.parents: unknown parent 'c'"):
        topological_order([a, b])
    typo = Scenario("d", "D?", "escalation", END, base_rate=(0.1, 0.2), parents={"treatty": (1, 2)})
    t = Scenario("treaty", "T?", "diplomatic", END, base_rate=(0.1, 0.2))
    with pytest.raises(CaseError, match='did you mean "treaty"'):
        topological_order([t, typo])
    with pytest.raises(CaseError, match="defined twice"):
        topological_order([t, t])
    self_loop = Scenario("s", "S?", "escalation", END, base_rate=(0.1, 0.2), parents={"s": (1, 2)})
    with pytest.raises(CaseError, match="cycle: s -> s"):
        topological_order([self_loop])
    d = Scenario("d", "D?", "escalation", END, base_rate=(0.1, 0.2), parents={"treaty": (1, 2)})
    assert topological_order([d, t]) == [1, 0], "parents come first"


@pytest.mark.parametrize("kwargs,field", [
    ({"base_rate": (0.5, 1.2)}, "base_rate"),
    ({"base_rate": (0.5, 0.1)}, "base_rate"),
    ({"base_rate": None}, "base_rate"),
    ({"family": "escallation"}, "family"),
    ({"name": "two words"}, "name"),
    ({"parents": {"a": (0, 2)}}, "parents.a"),
    ({"driver": {"level_above": 100, "efect": (0.1, 0.2)}}, "driver.efect"),
    ({"driver": {"for_days": 3}}, "driver"),
    ({"driver": {"level_above": -5}}, "driver.level_above"),
    ({"resolves_by": "31/03/2025"}, "resolves_by"),
])
def test_bad_scenario_fields(kwargs, field):
    base = {"name": "x", "question": "X?", "family": "escalation", "resolves_by": END, "base_rate": (0.1, 0.2)}
    with pytest.raises(CaseError) as e:
        Scenario(**{**base, **kwargs})
    assert e.value.field == field


def test_families():
    make = lambda fam: Scenario("x", "X?", fam, END, base_rate=(0.1, 0.2)).family
    assert make("Military aid") == "military_aid" and make("alliance-realignment") == "alliance_realignment"
    assert make("sanctions") == "sanctions"  # user-defined


CASE = """
[case]
name = "test"
unit = "troops"
start = 2024-10-01
horizon = 2025-03-31

[[reports]]
date = 2024-10-23
source = "NIS"
claim = "approximately"
value = 3000

[[scenarios]]
name = "treaty"
question = "Treaty in force by 31 March 2025?"
family = "diplomatic"
resolves_by = 2025-03-31
base_rate = [0.2, 0.6]

[[scenarios]]
name = "combat"
question = "Direct combat by 31 March 2025?"
family = "escalation"
resolves_by = 2025-03-31
base_rate = [0.02, 0.15]
driver = { level_above = 5000, for_days = 14, effect = [0.5, 0.95] }
parents = { treaty = [1.0, 2.0] }
rationale = "because"
"""


def test_case_file_scenarios(tmp_path):
    p = tmp_path / "case.toml"
    p.write_text(CASE)
    case = load_case(p)
    assert [s.name for s in case.scenarios] == ["treaty", "combat"]
    assert case.scenarios[1].driver.effect == (0.5, 0.95) and case.scenarios[1].parents == {"treaty": (1.0, 2.0)}
    assert case_from_plain(json.loads(json.dumps(case_to_dict(case)))) == case
    res = simulate(stand_in(case.scenarios), **SMALL)
    assert len(res.table()) == 2
    bad = [
        (('treaty = [1.0, 2.0]', 'traety = [1.0, 2.0]'), "scenarios[1]", "parents", "unknown parent"),
        (('base_rate = [0.2, 0.6]', 'base_rate = [0.2, 6]'), "scenarios[0]", "base_rate", "between 0 and 1"),
        (('resolves_by = 2025-03-31\nbase_rate = [0.2', 'resolves_by = 2025-06-30\nbase_rate = [0.2'),
         "scenarios[0]", "resolves_by", "outside the case period"),
        (('rationale = "because"', 'rational = "because"'), "scenarios[1]", "rational", 'did you mean "rationale"'),
        (('for_days = 14', 'for_days = 1.5'), "scenarios[1]", "driver.for_days", "whole number"),
        (('family = "diplomatic"\nresolves_by = 2025-03-31\nbase_rate = [0.2, 0.6]',
          'family = "diplomatic"\nresolves_by = 2025-03-31\nbase_rate = [0.2, 0.6]\nparents = { combat = [1, 2] }'),
         "scenarios[0]", "parents", "cycle"),
    ]
    for (old, new), entry, field, words in bad:
        assert old in CASE
        p.write_text(CASE.replace(old, new, 1))
        with pytest.raises(CaseError) as e:
            load_case(p)
        msg = str(e.value)
        assert msg.startswith(str(p)) and f"{entry}.{field}" in msg and words in msg, msg


def test_builtin_flagship_scenarios():
    case = builtin_case()
    names = [s.name for s in case.scenarios]
    assert {"combat", "beyond_kursk", "treaty_in_force", "us_long_range", "western_aid_citing", "rok_lethal_aid",
            "alliance_shift"} <= set(names)
    assert all(s.rationale and s.question.endswith("?") for s in case.scenarios)
    assert all(s.observed is None for s in case.scenarios), "the built-in case is used for backtests"
    assert case_from_plain(json.loads(json.dumps(case_to_dict(case)))) == case
    # a stand-in forecast over the case's period; drivers of related quantities read the total here
    # (the quantities' own trajectories are tested in test_quantities.py and test_independent_quantities.py)
    dates = pd.date_range(case.start, case.horizon)
    rng = np.random.default_rng(1)
    levels = np.exp(rng.normal(np.log(11000), 0.35, (200, 1))) * (1 - np.exp(-np.arange(len(dates)) / 30.0)) + 1.0
    scenarios = [dataclasses.replace(s, driver=dataclasses.replace(s.driver, quantity=None)) if s.driver else s
                 for s in case.scenarios]
    forecast = SimpleNamespace(level_draws=levels, design=SimpleNamespace(dates=dates), case=case)
    res = simulate(forecast, scenarios, draws=400)
    tab = res.table()
    assert len(tab) == len(names) and tab["probability"].between(0, 1).all()
