"""What moved the forecast: PSIS leave-out against refits, table shape, plot."""

import math

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pytest

import forecasting as fc
from forecasting import CaseError
from forecasting.influence import _refit_without, influence
from forecasting.plotting_evaluation import influence_plot

DATE = "2024-12-01"


@pytest.fixture(scope="module")
def forecast():
    return fc.fit(fc.builtin_case(), draws=500, tune=500, chains=2, seed=4)


@pytest.fixture(scope="module")
def table(forecast):
    return influence(forecast, date=DATE)


def test_table_has_every_report_and_source(forecast, table):
    n_reports = forecast.design.n_reports
    n_sources = len(forecast.design.source_names)
    targets = table["target"].unique()
    assert len(targets) == 1 + len(forecast.case.scenarios)
    assert len(table) == (n_reports + n_sources) * len(targets)
    assert set(table["method"]) <= {"psis", "refit"}
    assert (table.loc[table["pareto_k"] > 0.7, "method"] == "refit").all()
    level = table[table["target"].str.startswith("level")]
    assert np.allclose(level["change"], level["without"] - level["baseline"])
    med = float(np.median(forecast.level_on(DATE)))
    assert np.allclose(level["baseline"], med, rtol=0.01)  # weighted median with equal weights


def _median_se(x, ess):
    # asymptotic se of a median: sqrt(pi/2) * sd / sqrt(ess) for near-normal draws
    return math.sqrt(math.pi / 2) * np.std(x) / math.sqrt(ess)


@pytest.mark.slow
def test_psis_agrees_with_refit(forecast, table):
    """Where PSIS is reliable, leaving a source out by reweighting matches refitting without it."""
    level = table[table["target"].str.startswith("level") & (table["kind"] == "source") & (table["pareto_k"] < 0.7)]
    row = level.loc[level["change"].abs().idxmax()]
    drop = {i for i, r in enumerate(forecast.case.reports) if r.source == row["dropped"]}
    new, _ = _refit_without(forecast, drop, seed=4)
    x_new = new.level_on(DATE)
    x_old = forecast.level_on(DATE)
    i = forecast.design.dates.get_loc(DATE)
    ess_new = float(az.ess(new.idata.posterior["log_level"].isel(date=i).values))
    # PSIS loses efficiency with uneven weights: ESS ~ ESS_full / (n * sum w^2)
    ll = forecast.idata.log_likelihood["claims"].values.reshape(len(x_old), -1)
    cols = [j for j, k in enumerate(forecast.design.report_index) if k in drop]
    lw, _ = az.psislw(-ll[:, cols].sum(axis=1))
    w = np.exp(lw - lw.max())
    w /= w.sum()
    ess_old = float(az.ess(forecast.idata.posterior["log_level"].isel(date=i).values)) / (len(w) * np.sum(w**2))
    se = math.hypot(_median_se(x_new, ess_new), _median_se(x_old, ess_old))
    # 4 standard errors: a false alarm about once in 16,000 runs
    assert abs(row["without"] - np.median(x_new)) < 4 * se, (row["dropped"], row["without"], np.median(x_new), se)


def test_bad_date(forecast):
    with pytest.raises(CaseError, match="outside the case period"):
        influence(forecast, date="2030-01-01", scenarios=False)


def test_plot(table):
    target = table["target"].iloc[0]
    ax = influence_plot(table, target, top=8)
    assert len(ax.patches) == 8
    assert target in ax.get_xlabel() and "baseline" in ax.get_xlabel()
    plt.close("all")


def test_leaving_out_a_source_leaves_out_its_echoes():
    """An echo has no weight while its origin is in; a refit without the origin must not turn it into evidence."""
    from forecasting.echoes import echo_origins
    from forecasting.influence import _with_echoes

    case = fc.builtin_case()
    origins = echo_origins(case.reports)
    zelensky = {i for i, r in enumerate(case.reports) if r.source == "Ukraine President Zelensky"}
    echoes_of_him = {i for i, o in enumerate(origins) if o in zelensky}
    assert echoes_of_him - zelensky  # the Kyiv Independent repeats him
    assert _with_echoes(case.reports, zelensky) == zelensky | echoes_of_him
    assert _with_echoes(case.reports, set()) == set()
