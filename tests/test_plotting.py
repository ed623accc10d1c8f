"""Plot functions: documented, no **kwargs, labelled axes, matplotlib objects back, one style."""

import importlib
import inspect
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import forecasting as fc
from forecasting import plotting

MODULES = ["forecasting.plotting", "forecasting.plotting_evaluation"]


def _modules():
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue  # written for another issue; checked once it exists
    return out


def _plot_functions():
    funcs = []
    for mod in _modules():
        for name, f in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("_") or getattr(f, "__module__", None) != mod.__name__ or name == "style":
                continue
            funcs.append(pytest.param(f, id=f"{mod.__name__.split('.')[-1]}.{name}"))
    return funcs


def _documented(doc: str) -> set:
    """Parameter names of a numpydoc ``Parameters`` section (``a, b : type`` lines name several).

    ``doc`` is dedented (``inspect.getdoc``): names start a line, descriptions are indented.
    """
    m = re.search(r"\nParameters\n-+\n(.*?)(\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S)
    if not m:
        return set()
    names = set()
    for line in m.group(1).splitlines():
        if re.match(r"^[A-Za-z_*]", line):
            for n in line.split(" : ")[0].split(","):
                names.add(n.strip().lstrip("*"))
    return names


@pytest.mark.parametrize("func", _plot_functions())
def test_plot_function_is_documented_and_takes_ax(func):
    sig = inspect.signature(func)
    params = sig.parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), "no **kwargs"
    assert "ax" in params and params["ax"].default is None, "takes ax=None"
    doc = inspect.getdoc(func) or ""
    assert set(params) <= _documented("\n" + doc), set(params) - _documented("\n" + doc)
    assert re.search(r"\n\s*Returns\n\s*-+\n", "\n" + doc)


def test_the_check_sees_every_plot_function():
    names = {p.id for p in _plot_functions()}
    expected = {"fan_chart", "sources_forest", "scenario_probabilities", "probability_over_time",
                "conditional_matrix", "tornado", "what_if_comparison"}
    assert {f"plotting.{n}" for n in expected} <= names
    # the parser reads a real docstring (a parser that found nothing would pass every function)
    assert {"forecast", "ax", "log_scale", "show_ignored"} <= _documented("\n" + inspect.getdoc(plotting.fan_chart))
    assert _documented("\n" + inspect.getdoc(plotting.tornado)) == {"sensitivity_table", "ax", "top"}


@pytest.fixture(scope="module")
def results():
    forecast = fc.fit(fc.builtin_case(as_of="2024-11-10"), draws=200, tune=200, chains=2, seed=11)
    return {
        "forecast": forecast,
        "scenarios": fc.simulate(forecast, draws=400, seed=1),
        "sensitivity": fc.sensitivity(forecast, draws=200, seed=1),
        "what_ifs": [fc.what_if(forecast, stays_below=(12000, "2024-12-01"), draws=400, seed=1),
                     fc.what_if(forecast, event="treaty_in_force", draws=400, seed=1)],
    }


def _calls(r):
    return {
        "fan_chart": lambda ax: plotting.fan_chart(r["forecast"], ax=ax),
        "sources_forest": lambda ax: plotting.sources_forest(r["forecast"], ax=ax),
        "scenario_probabilities": lambda ax: plotting.scenario_probabilities(r["scenarios"], ax=ax),
        "probability_over_time": lambda ax: plotting.probability_over_time(r["scenarios"], ax=ax),
        "conditional_matrix": lambda ax: plotting.conditional_matrix(r["scenarios"], ax=ax),
        "tornado": lambda ax: plotting.tornado(r["sensitivity"], ax=ax),
        "what_if_comparison": lambda ax: plotting.what_if_comparison(r["what_ifs"], ax=ax),
    }


@pytest.mark.parametrize("name", list(_calls({k: None for k in ("forecast", "scenarios", "sensitivity", "what_ifs")})))
def test_plot_labels_its_axes_and_returns_matplotlib(results, name):
    draw = _calls(results)[name]
    out = draw(None)
    axes = np.asarray(out).ravel()
    assert all(isinstance(a, (Axes, Figure)) for a in axes)
    for ax in axes:
        assert ax.get_xlabel(), "x axis labelled"
        assert any(ax.get_title(loc) for loc in ("left", "center", "right")) or ax.figure.get_suptitle(), "titled"
    assert axes[0].get_ylabel(), "y axis labelled"
    fig = axes[0].figure
    plt.close(fig)
    # drawing into the caller's axes uses them rather than a new figure
    if name == "sources_forest":
        fig, given = plt.subplots(1, 2)
    else:
        fig, given = plt.subplots()
    back = draw(given)
    assert np.asarray(back).ravel()[0].figure is fig
    plt.close(fig)


def test_time_axes_show_dates_and_value_axes_the_unit(results):
    f = results["forecast"]
    ax = plotting.fan_chart(f)
    ax.figure.canvas.draw()
    assert f.case.unit in ax.get_ylabel()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any(re.search(r"20\d\d|Jan|Feb|Mar|Oct|Nov|Dec", t) for t in ticks), ticks
    plt.close(ax.figure)
    ax = plotting.probability_over_time(results["scenarios"])
    ax.figure.canvas.draw()
    assert "date" in ax.get_xlabel()
    assert any(re.search(r"20\d\d|Jan|Feb|Mar|Oct|Nov|Dec", t.get_text()) for t in ax.get_xticklabels())
    plt.close(ax.figure)


def test_one_style_colour_blind_safe_palette(results):
    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}
    assert set(plotting.PALETTE) <= okabe_ito
    before = dict(matplotlib.rcParams)
    ax = plotting.scenario_probabilities(results["scenarios"])
    assert not ax.spines["top"].get_visible()  # drawn inside the library's style ...
    plt.close(ax.figure)
    assert matplotlib.rcParams["axes.spines.top"] == before["axes.spines.top"]  # ... which is not left behind
    with plotting.style():
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plotting.PALETTE


def test_what_if_comparison_draws_each_what_if_and_the_baseline(results):
    ws = results["what_ifs"]
    ax = plotting.what_if_comparison(ws)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == "baseline" and len(labels) == len(ws) + 1
    assert all(w.condition in lab for w, lab in zip(ws, labels[1:]))
    n = len(ws[0].table())
    # one interval bar per scenario for the baseline and for each what-if
    assert sum(len(c.get_segments()) for c in ax.collections) == n * (len(ws) + 1)
    table = ws[1].table()
    xs = np.concatenate([line.get_xdata() for line in ax.get_lines() if line.get_label() == labels[2]])
    assert np.allclose(np.sort(xs), np.sort(table["what_if"].to_numpy()))
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="at least one"):
        plotting.what_if_comparison([])


@pytest.fixture(scope="module")
def backtest_result():
    pytest.importorskip("forecasting.plotting_evaluation")
    from forecasting.backtest import Settings

    return fc.backtest(fc.builtin_case(), every="60D", workers=1,
                       settings=Settings(draws=150, tune=150, chains=2, scenario_draws=400))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reliability_diagram", "pit_histogram", "vintage_plot"])
def test_evaluation_plots_are_labelled_and_share_the_style(backtest_result, name):
    from forecasting import plotting_evaluation

    out = getattr(plotting_evaluation, name)(backtest_result)
    axes = np.asarray(out).ravel()
    assert all(isinstance(a, Axes) for a in axes)
    for ax in axes:
        assert ax.get_xlabel() or ax is not axes[-1], "the bottom axis is labelled"
        assert ax.get_ylabel(), "y axis labelled"
        assert any(ax.get_title(loc) for loc in ("left", "center", "right")) or ax.figure.get_suptitle()
        assert not ax.spines["top"].get_visible()  # drawn inside forecasting.plotting.style()
    plt.close(axes[0].figure)
