"""Related quantities: subsets with an uncertain share, stages with a lag, independent counts."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecasting import Case, CaseError, Report, Source, fit, load_case
from forecasting import logdensity as ld
from forecasting import quantities as qty
from forecasting.casefile import case_from_plain, case_to_dict
from forecasting.echoes import echo_origins
from forecasting.model import build_model, design
from forecasting.quantities import Quantity

START = dt.date(2024, 10, 1)
DAYS = 91
SHARE = 0.4  # true share of the deployed force in the combat zone
LAG = 20  # troops in training on day t are deployed on day t + LAG


def truth(day):
    """True deployed total: 2,000 growing to 12,000 over the quarter."""
    return 2000 * 6 ** (day / (DAYS - 1))


QUANTITIES = (
    Quantity("in_combat_zone", "subset", share=(0.2, 0.8)),
    Quantity("trained", "stage", lag=LAG),
    Quantity("casualties", "independent", unit="casualties"),
)


def simulated_case(seed=1):
    rng = np.random.default_rng(seed)
    reports = []

    def add(source, days, scale, quantity=None, noise=0.1):
        for day in days:
            value = truth(day + (LAG if quantity == "trained" else 0)) * scale * np.exp(noise * rng.standard_normal())
            reports.append(Report(START + dt.timedelta(days=int(day)), source, "approximately", round(value),
                                  quantity=quantity))

    add("A", [10, 40, 70], 1.0)
    add("B", [20, 55, 85], 1.0)
    add("C", [30, 60], 1.0)
    add("D", [25, 50, 75, 88], SHARE, "in_combat_zone")
    add("E", [5, 35, 60], 1.0, "trained")
    reports.append(Report(START + dt.timedelta(days=60), "A", "at_least", 100, quantity="casualties"))
    reports.append(Report(START + dt.timedelta(days=80), "B", "approximately", 1000, quantity="casualties"))
    return Case("related", "troops", START, START + dt.timedelta(days=DAYS - 1), tuple(reports),
                sources=tuple(Source(n, grade="B2") for n in "ABCDE"), trajectory="random_walk",
                quantity="deployed_total", quantities=QUANTITIES)


# ---------------------------------------------------------------- validation
def test_quantity_rules():
    with pytest.raises(CaseError, match="share.*missing"):
        Quantity("zone", "subset")
    with pytest.raises(CaseError, match="0 < low < high <= 1"):
        Quantity("zone", "subset", share=(0.5, 1.5))
    with pytest.raises(CaseError, match="lag.*missing"):
        Quantity("trained", "stage")
    with pytest.raises(CaseError, match="only `subset` quantities take a share"):
        Quantity("trained", "stage", lag=3, share=(0.1, 0.2))
    with pytest.raises(CaseError, match='did you mean "subset"'):
        Quantity("zone", "subst", share=(0.1, 0.2))
    with pytest.raises(CaseError, match="lower-case letters"):
        Quantity("In Zone", "subset", share=(0.1, 0.2))


def test_report_quantity_must_be_declared():
    case = simulated_case()
    bad = case.reports[0].__class__(START, "A", "approximately", 5, quantity="in_combat_zon")
    with pytest.raises(CaseError) as e:
        case.add_report(bad)
    assert "reports[" in str(e.value) and ".quantity" in str(e.value) and 'did you mean "in_combat_zone"' in str(e.value)


def test_stage_report_must_read_inside_the_period():
    case = simulated_case()
    late = Report(case.horizon - dt.timedelta(days=5), "E", "approximately", 9000, quantity="trained")
    with pytest.raises(CaseError, match=r"reads the primary on 2025-01-14, outside the case period"):
        case.add_report(late)


def test_one_level_of_relations():
    with pytest.raises(CaseError, match="one level of relations"):
        simulated_case().with_(quantities=QUANTITIES + (Quantity("killed", "subset", of="casualties",
                                                                 share=(0.1, 0.5)),))


CASE_FILE = """
[case]
name = "t"
unit = "troops"
start = 2024-10-01
horizon = 2024-12-31
quantity = "deployed_total"

[[quantities]]
name = "in_combat_zone"
relation = "subset"
share = [0.3, 0.9]

[[quantities]]
name = "trained"
relation = "stage"
lag = 30

[[reports]]
date = 2024-10-20
source = "A"
claim = "approximately"
value = 3000

[[reports]]
date = 2024-11-10
source = "A"
claim = "at_least"
value = 1000
quantity = "in_combat_zone"
"""


def test_case_file_round_trip(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(CASE_FILE)
    case = load_case(p)
    assert case.quantity == "deployed_total" and case.quantities[0].share == (0.3, 0.9)
    assert case.quantities[1].lag == 30 and case.reports[1].quantity == "in_combat_zone"
    again = case_from_plain(case_to_dict(case))
    assert again.quantities == case.quantities and again.reports == case.reports and again.quantity == case.quantity
    assert list(case.reports_frame()["quantity"]) == ["deployed_total", "in_combat_zone"]


@pytest.mark.parametrize("change,field,words", [
    (("share = [0.3, 0.9]", "share = [0.9, 0.3]"), "quantities[0].share", "0 < low < high <= 1"),
    (("lag = 30", 'lag = "a month"'), "quantities[1].lag", "whole number"),
    (('relation = "stage"', 'relation = "stages"'), "quantities[1].relation", 'did you mean "stage"'),
    (("lag = 30", "lags = 30"), "quantities[1].lags", 'did you mean "lag"'),
])
def test_case_file_errors_name_file_entry_and_field(tmp_path, change, field, words):
    p = tmp_path / "c.toml"
    p.write_text(CASE_FILE.replace(*change))
    with pytest.raises(CaseError) as e:
        load_case(p)
    assert "c.toml" in str(e.value) and field in str(e.value) and words in str(e.value)


def test_same_figure_for_another_quantity_is_not_an_echo():
    a = Report(START, "A", "approximately", 3000)
    b = Report(START, "A", "approximately", 3000, quantity="in_combat_zone")
    assert echo_origins([a, b]) == [None, None]


# ---------------------------------------------------------------- design
def test_design_reads_every_quantity_off_the_primary():
    case = simulated_case()
    d = design(case)
    reports = [case.reports[i] for i in d.report_index]
    assert not any(r.quantity == "casualties" for r in reports), "independent quantities are separate cases"
    assert d.share_names == ["in_combat_zone"]
    for r, day, share in zip(reports, d.about_day, d.report_share):
        lag = LAG if r.quantity == "trained" else 0
        assert day == (r.date - START).days + lag
        assert share == (0 if r.quantity == "in_combat_zone" else -1)
    # the claim-informed default priors come from the primary-scale reports only
    primary = case.with_(reports=tuple(r for r in reports if r.quantity != "in_combat_zone"), quantities=QUANTITIES)
    assert d.priors["params"]["level"] == design(primary).priors["params"]["level"]


def test_independent_quantity_is_its_own_case():
    cases = qty.independent_cases(simulated_case())
    assert set(cases) == {"casualties"}
    c = cases["casualties"]
    assert c.unit == "casualties" and len(c.reports) == 2 and all(r.quantity is None for r in c.reports)
    assert [s.name for s in c.sources] == list("ABCDE")  # all declared, in order (same colours in plots)
    assert design(c).source_names == ["A", "B"]  # the model uses the sources with reports


@pytest.fixture(scope="module")
def pymc_pair():
    case = simulated_case()
    extra = (Report(START + dt.timedelta(days=45), "D", "between", low=1500, high=4000, quantity="in_combat_zone"),
             Report(START + dt.timedelta(days=30), "C", "projection", 9000, target=START + dt.timedelta(days=80)),
             Report(START + dt.timedelta(days=12), "E", "up_to", 9000, quantity="trained"))
    d = design(case.with_(reports=case.reports + extra, trajectory="saturating"))
    model = build_model(d)
    return d, model, model.compile_logp(), model.compile_dlogp()


@pytest.mark.slow
def test_compiled_density_agrees_with_pymc_with_quantities(pymc_pair):
    """As tests/test_logdensity.py, for a design with a subset share and a stage lag."""
    d, model, logp, dlogp = pymc_pair
    sl = ld.param_slices(d)
    assert set(sl) == {v.name for v in model.value_vars} and "log_share" in sl
    assert sum(s.stop - s.start for s in sl.values()) == ld.n_params(d)
    data = ld.pack(d)
    order = np.concatenate([np.arange(sl[v.name].start, sl[v.name].stop) for v in model.value_vars])
    rng = np.random.default_rng(7)
    args = (data["reports"], data["index"], data["sources"], data["gaps"], data["settings"], data["n_days"])
    for _ in range(10):
        theta = ld.initial_point(d, data, rng) + rng.normal(0, 0.5, ld.n_params(d))
        point = {v.name: theta[sl[v.name]] if v.ndim else theta[sl[v.name]][0] for v in model.value_vars}
        lp, grad = ld.logp_grad(theta, *args)
        assert lp == pytest.approx(float(logp(point)), rel=1e-8, abs=1e-8)
        np.testing.assert_allclose(grad[order], np.asarray(dlogp(point)), rtol=1e-7, atol=1e-8)
    # and the expanded variables (reading means net of the share) match the model's
    theta = ld.initial_point(d, data, np.random.default_rng(5))
    ours = ld.expand(theta, d, data)
    point = {v.name: theta[sl[v.name]] if v.ndim else theta[sl[v.name]][0] for v in model.value_vars}
    names = ["reading_mean", "reading_var", "log_share"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    ref = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(point)
    for name, value in zip(names, ref):
        np.testing.assert_allclose(ours[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


def test_gradient_of_the_share_is_the_derivative():
    d = design(simulated_case())
    data = ld.pack(d)
    args = (data["reports"], data["index"], data["sources"], data["gaps"], data["settings"], data["n_days"])
    theta = ld.initial_point(d, data, np.random.default_rng(3))
    i = ld.param_slices(d)["log_share"].start
    _, grad = ld.logp_grad(theta, *args)
    e = np.zeros_like(theta)
    e[i] = 1e-5
    fd = (ld.logp_grad(theta + e, *args)[0] - ld.logp_grad(theta - e, *args)[0]) / 2e-5
    assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-6)


# ---------------------------------------------------------------- fitted
@pytest.fixture(scope="module")
def fitted():
    return fit(simulated_case(), draws=600, tune=400, chains=2, seed=4)


@pytest.mark.slow
def test_derived_trajectories_are_the_primary_transformed(fitted):
    post = fitted.idata.posterior
    x = post["log_level"].values.reshape(-1, DAYS)
    dates, zone = qty.level_draws(fitted, "in_combat_zone")
    log_share = post["log_share"].sel(quantity="in_combat_zone").values.reshape(-1, 1)
    np.testing.assert_allclose(zone, np.exp(x + log_share), rtol=1e-12)
    dates, trained = qty.level_draws(fitted, "trained")
    assert len(dates) == DAYS - LAG and dates[0] == pd.Timestamp(START)
    np.testing.assert_allclose(trained, np.exp(x[:, LAG:]), rtol=1e-12)
    table = qty.trajectory(fitted, "trained")
    assert list(table.columns) == ["date", "mean", "q05", "q25", "q50", "q75", "q95"] and len(table) == DAYS - LAG
    with pytest.raises(CaseError, match="independent quantities are fitted as their own case"):
        qty.trajectory(fitted, "casualties")


@pytest.mark.slow
def test_share_is_learnt(fitted):
    table = qty.shares(fitted)
    row = table.iloc[0]
    # the data pin the share far more tightly than its prior (0.2-0.8) ...
    assert row.share_q95 / row.share_q05 < 0.5 * (0.8 / 0.2)
    # ... and around the truth (a 90% interval: this seed's data put it inside; the check is not a tolerance)
    assert row.share_q05 < SHARE < row.share_q95


@pytest.mark.slow
def test_outputs_and_fan_charts_per_quantity(fitted, tmp_path):
    from forecasting.outputs import write_outputs
    from forecasting.plotting import fan_chart

    write_outputs(fitted, tmp_path / "out")
    for name in ("in_combat_zone", "trained"):
        assert (tmp_path / "out" / f"trajectory_{name}.csv").is_file()
        assert (tmp_path / "out" / f"trajectory_{name}.png").is_file()
    # the independent quantity's files come from its own fit (tests/test_independent_quantities.py)
    assert set(fitted.related) == {"casualties"}
    for name in ("trajectory_casualties.csv", "trajectory_casualties.png", "sources_casualties.csv"):
        assert (tmp_path / "out" / name).is_file()
    shares = pd.read_csv(tmp_path / "out" / "shares.csv")
    assert list(shares.quantity) == ["in_combat_zone"]
    import matplotlib.pyplot as plt

    ax = fan_chart(fitted, quantity="in_combat_zone")
    dots = [ln for ln in ax.lines if ln.get_marker() == "o" and len(ln.get_xdata()) == 1]
    assert len(dots) == 4, "only the subset's own four reports are drawn"
    assert "in_combat_zone" in ax.get_title(loc="left")
    plt.close(ax.figure)


def test_evidence_notes_ignore_other_quantities_scales():
    from forecasting.evidence import evidence_notes

    # casualties (100, 1,000) and a subset are far below the total without conflicting with it
    assert not any("conflict" in n for n in evidence_notes(simulated_case()))


def test_flagship_casualties_are_an_independent_quantity_with_echoes():
    import forecasting as fc

    flagship = fc.builtin_case()
    assert {q.name: q.relation for q in flagship.quantities} == {"in_kursk": "subset", "casualties": "independent"}
    case = qty.independent_cases(flagship)["casualties"]
    assert case.unit == "casualties" and all(r.note for r in case.reports)
    echoes = case.reports_frame()["echo_of"]
    assert echoes.notna().sum() == 2  # JCS repeating the NIS, Zelensky repeating himself
    assert design(case).n_reports == len(case.reports) - 2
    # and the flagship's own model reads the Kursk figures through the share, not the casualties
    d = design(flagship)
    kept = [flagship.reports[i].quantity for i in d.report_index]
    assert "casualties" not in kept and kept.count("in_kursk") == int((d.report_share == 0).sum()) > 10


# ---------------------------------------------------------------- scenarios driven by a related quantity
def zone_scenario(quantity="in_combat_zone", level=3000):
    from forecasting import Driver, Scenario

    return Scenario(name="zone_3000", question=f"Will {quantity} reach {level:,} by 15 Dec 2024?",
                    family="trajectory", resolves_by="2024-12-15", driver=Driver(level_above=level, quantity=quantity))


def test_driver_quantity_must_be_declared():
    case = simulated_case()
    # an independent quantity reads its own fit (tests/test_independent_quantities.py)
    assert case.with_(scenarios=(zone_scenario("casualties"),)).scenarios[0].driver.quantity == "casualties"
    with pytest.raises(CaseError, match=r"scenarios\[0\]\.driver\.quantity.*not declared"):
        case.with_(scenarios=(zone_scenario("killed"),))
    with pytest.raises(CaseError, match='did you mean "in_combat_zone"'):
        case.with_(scenarios=(zone_scenario("in_combat_zon"),))
    assert case.with_(scenarios=(zone_scenario(),)).scenarios[0].driver.quantity == "in_combat_zone"


@pytest.mark.slow
def test_scenario_driven_by_a_subset_follows_its_trajectory(fitted):
    from forecasting import simulate

    n = fitted.level_draws.shape[0]
    res = simulate(fitted, [zone_scenario()], draws=n, replicates=1, seed=0)
    dates, zone = qty.level_draws(fitted, "in_combat_zone")
    by = dates <= pd.Timestamp("2024-12-15")
    # a pure trajectory event happens on the first day the condition holds: exactly this fraction of draws
    expected = float((zone[:, by] >= 3000).any(axis=1).mean())
    assert res.table()["probability"].iloc[0] == pytest.approx(expected, abs=1e-12)
    primary = simulate(fitted, [zone_scenario(quantity="deployed_total")], draws=n, replicates=1, seed=0)
    assert primary.table()["probability"].iloc[0] > expected  # the total passes 3,000 before its subset
