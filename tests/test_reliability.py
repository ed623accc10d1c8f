"""Failed sampling is never silent; nothing is lost or half-written; files are data, never code.

* An unconverged fit (20 draws after 20 tuning steps cannot reach a bulk ESS of 400) is
  flagged in diagnostics.json and scenarios.csv, every PNG the CLI writes carries the
  "NOT CONVERGED" stamp, the CLI exits 3 unless ``--allow-unconverged``, and the message
  says what to try.
* Divergences and R-hat above 1.01 are each flagged with their own advice.
* A crash or Ctrl-C while outputs are written leaves the previous complete outputs, or
  none; another case's directory is refused; a saved posterior rebuilds every table
  byte for byte.
* No ``eval``, ``exec``, pickle or unsafe YAML anywhere in the package.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest

import forecasting as fc
from forecasting import CaseError, Forecast
from forecasting import outputs as outputs_module
from forecasting import plotting
from forecasting.cli import main
from forecasting.outputs import UNCONVERGED_MARK, write_outputs

from .test_bad_input import BASE

pytestmark = pytest.mark.slow  # MCMC fits, a few seconds each
UNCONVERGED = ["--draws", "20", "--tune", "20", "--chains", "2", "--quiet"]
PNGS = {"trajectory.png", "sources.png", "scenarios.png", "scenario_curves.png", "scenario_joint.png",
        "sensitivity.png"}


@pytest.fixture(scope="module")
def case_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("case") / "case.toml"
    p.write_text(BASE)
    return p


@pytest.fixture(scope="module")
def small_fit(case_path):
    return fc.fit(fc.load_case(case_path), draws=200, tune=200, chains=2, seed=2)


@pytest.fixture
def saved_figures(monkeypatch):
    """Record, for every figure saved, its file name and whether it carries the unconverged stamp."""
    seen = {}
    real = matplotlib.figure.Figure.savefig

    def savefig(fig, fname, *args, **kwargs):
        name = Path(fname).name if isinstance(fname, (str, os.PathLike)) else f"<{type(fname).__name__}>"
        seen[name] = seen.get(name, True) and any(t.get_text() == UNCONVERGED_MARK for t in fig.texts)
        return real(fig, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return seen


# ------------------------------------------------------------ failed sampling
def test_unconverged_run_is_flagged_everywhere(case_path, tmp_path, capsys, saved_figures):
    out = tmp_path / "out"
    assert main(["run", str(case_path), "--out", str(out), "--seed", "1", *UNCONVERGED]) == 3
    err = capsys.readouterr().err
    assert "warning: sampling did not converge; outputs are flagged as unreliable" in err
    assert "increase --draws" in err and "pass --allow-unconverged to accept" in err
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["converged"] is False and any("ESS" in p for p in diag["problems"])
    written = {p.name for p in out.glob("*.png")}
    assert PNGS <= written
    assert written <= set(saved_figures), "a PNG was written without a Figure.savefig we could inspect"
    unstamped = sorted(name for name, stamped in saved_figures.items() if not stamped)
    assert not unstamped, f"figures without the NOT CONVERGED stamp: {unstamped}"
    scen = (out / "scenarios.csv").read_text()
    assert "trajectory fit did not converge: see diagnostics.json" in scen


def test_allow_unconverged_exits_0_but_still_flags(case_path, tmp_path, saved_figures):
    out = tmp_path / "out"
    assert main(["run", str(case_path), "--out", str(out), "--allow-unconverged", *UNCONVERGED]) == 0
    assert json.loads((out / "diagnostics.json").read_text())["converged"] is False
    assert all(saved_figures.values()) and PNGS <= set(saved_figures)


def test_converged_plots_are_not_stamped(small_fit, tmp_path, saved_figures):
    ax = plotting.fan_chart(small_fit)
    outputs_module._save(ax, tmp_path / "a.png", converged=True)
    ax = plotting.fan_chart(small_fit)
    outputs_module._save(ax, tmp_path / "b.png", converged=False)
    assert saved_figures == {"a.png": False, "b.png": True}


def _tampered(forecast, **posterior_edits):
    idata = forecast.idata.copy()
    for name, edit in posterior_edits.items():
        idata.posterior[name] = edit(idata.posterior[name])
    return Forecast(forecast.case, idata, design=forecast.design)


def test_divergences_are_flagged_with_advice(small_fit):
    idata = small_fit.idata.copy()
    div = idata.sample_stats["diverging"].values.copy()
    div[0, :5] = True
    idata.sample_stats["diverging"] = (idata.sample_stats["diverging"].dims, div)
    diag = Forecast(small_fit.case, idata, design=small_fit.design).diagnostics()
    assert diag["divergences"] == int(div.sum()) >= 5 and not diag["converged"]
    assert any("divergent transitions" in p and "--target-accept" in p for p in diag["problems"])


def test_rhat_above_threshold_is_flagged_with_advice(small_fit):
    """Shifting one chain of the trajectory by 1 (far beyond its posterior sd) splits the chains."""
    shift = lambda x: x + np.array([0.0, 1.0])[:, None, None]  # noqa: E731
    diag = _tampered(small_fit, log_level=shift).diagnostics()
    assert diag["rhat_max"] > 1.01 and diag["rhat_worst"] == "log_level" and not diag["converged"]
    assert any(p.startswith("R-hat") and "run longer (--tune, --draws)" in p for p in diag["problems"])


# ------------------------------------------------------ nothing half-written
def _snapshot(path: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def _no_temporaries(parent: Path):
    left = [p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]
    assert not left, left


@pytest.mark.parametrize("crash", [RuntimeError("plot failed"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_crash_mid_write_keeps_previous_outputs(small_fit, tmp_path, monkeypatch, crash):
    out = tmp_path / "out"
    write_outputs(small_fit, out)
    before = _snapshot(out)

    def boom(*args, **kwargs):
        raise crash

    monkeypatch.setattr(plotting, "sources_forest", boom)  # after the CSVs and posterior.nc are written
    with pytest.raises(type(crash)):
        write_outputs(small_fit, out)
    assert _snapshot(out) == before
    _no_temporaries(tmp_path)


@pytest.mark.parametrize("crash", [RuntimeError("plot failed"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_crash_on_first_write_leaves_nothing(small_fit, tmp_path, monkeypatch, crash):
    def boom(*args, **kwargs):
        raise crash

    monkeypatch.setattr(plotting, "fan_chart", boom)
    with pytest.raises(type(crash)):
        write_outputs(small_fit, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    _no_temporaries(tmp_path)


def test_cli_ctrl_c_exits_130_and_changes_nothing(case_path, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["run", str(case_path), "--out", str(out), "--allow-unconverged", *UNCONVERGED]) == 0
    before = _snapshot(out)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plotting, "tornado", interrupt)  # the last plot written
    assert main(["run", str(case_path), "--out", str(out), "--seed", "9", "--allow-unconverged", *UNCONVERGED]) == 130
    assert "interrupted: no outputs were changed" in capsys.readouterr().err
    assert _snapshot(out) == before
    _no_temporaries(tmp_path)


def test_another_case_directory_is_refused(small_fit, tmp_path):
    out = tmp_path / "out"
    write_outputs(small_fit, out)
    before = _snapshot(out)
    other = Forecast(small_fit.case.with_(name="another case"), small_fit.idata, design=small_fit.design)
    with pytest.raises(CaseError, match=r"holds outputs of another case \('bad input'\).*--force"):
        write_outputs(other, out)
    assert _snapshot(out) == before
    write_outputs(other, out, force=True)
    assert json.loads((out / ".forecasting.json").read_text())["case"] == "another case"


def test_foreign_directory_is_refused(small_fit, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(CaseError, match="is not empty and was not written by forecasting"):
        write_outputs(small_fit, out)
    assert (out / "thesis.tex").read_text() == "precious"


def test_saved_posterior_rebuilds_every_table_exactly(case_path, tmp_path):
    """`forecasting tables` reproduces every CSV `run` wrote, byte for byte (what-ifs and model
    comparison need their own fits or arguments and are not rebuilt)."""
    out, rebuilt = tmp_path / "out", tmp_path / "rebuilt"
    assert main(["run", str(case_path), "--out", str(out), "--seed", "4", "--allow-unconverged",
                 "--what-if", "prevent=combat", *UNCONVERGED]) == 0
    assert main(["tables", str(out / "posterior.nc"), "--out", str(rebuilt), "--quiet"]) == 0
    first = {p.name for p in out.glob("*.csv")}
    again = {p.name for p in rebuilt.glob("*.csv")}
    assert first - again == {"whatif.csv"} and again <= first
    for name in sorted(again) + ["diagnostics.json"]:
        assert (out / name).read_bytes() == (rebuilt / name).read_bytes(), name


@pytest.mark.parametrize("content", [b"", b"not a netcdf file", b"\x89HDF\r\n\x1a\n" + bytes(200)],
                         ids=["empty", "text", "truncated-hdf5"])
def test_unreadable_posterior_is_bad_input(tmp_path, content):
    bad = tmp_path / "posterior.nc"
    bad.write_bytes(content)
    with pytest.raises(CaseError, match="not a saved forecast"):
        Forecast.load(bad)
    if content:
        return  # one command-line run (importing ArviZ and h5netcdf takes seconds) shows the exit status
    res = subprocess.run([sys.executable, "-m", "forecasting.cli", "tables", str(bad), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr and str(bad) in res.stderr
    assert not (tmp_path / "o").exists()


def test_posterior_with_a_tampered_case_is_bad_input(small_fit, tmp_path):
    """The case inside posterior.nc is JSON read through the same validation as a case file."""
    path = tmp_path / "posterior.nc"
    small_fit.save(path)
    import h5netcdf

    with h5netcdf.File(path, "a") as f:
        case = json.loads(f.attrs["case"])
        case["reports"][0]["value"] = -1
        f.attrs["case"] = json.dumps(case)
    with pytest.raises(CaseError, match=r"reports\[0\]\.value: got -1"):
        Forecast.load(path)


# ---------------------------------------------------------- untrusted files
UNSAFE = [
    (re.compile(r"(?<![\w.])eval\s*\("), "eval("),
    (re.compile(r"(?<![\w.])exec\s*\("), "exec("),
    (re.compile(r"\bpickle\b|\bcloudpickle\b|\bdill\b|\bjoblib\b|\bmarshal\b"), "pickle-like serialisation"),
    (re.compile(r"yaml\.load\s*\((?![^)]*SafeLoader)"), "yaml.load without SafeLoader"),
    (re.compile(r"\bshelve\b|__import__\s*\("), "shelve / __import__"),
]


def test_package_source_has_no_code_execution_on_data():
    files = sorted(Path(fc.__file__).parent.rglob("*.py"))
    assert len(files) > 10
    found = []
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in UNSAFE:
                if pattern.search(code):
                    found.append(f"{path.name}:{lineno}: {what}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_scan_would_catch_them():
    """The patterns are not vacuous: each matches the construct it is meant to forbid."""
    samples = ["x = eval(text)", "exec(code)", "import pickle", "yaml.load(f)", "__import__('os')"]
    for sample in samples:
        assert any(p.search(sample) for p, _ in UNSAFE), sample
    assert not any(p.search("yaml.load(f, Loader=yaml.SafeLoader)") for p, _ in UNSAFE)
    assert not any(p.search("model.evaluate(x); df.eval_fn") for p, _ in UNSAFE)


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("reaches=__import__('os').system('true')", None),
        ("stays_below=1e3 if True else 0", None),
        ("prevent=combat@2024-11-01", None),
        ("event=combat; rm -rf /", {"event": "combat; rm -rf /"}),
    ],
)
def test_what_if_specs_are_data(spec, expected):
    """--what-if is read by a fixed grammar: code in a number is a bad value, in a name a literal name
    (which then matches no scenario), never run."""
    from forecasting.cli import parse_what_if

    if expected is None:
        with pytest.raises(CaseError, match="--what-if"):
            parse_what_if(spec)
    else:
        assert parse_what_if(spec) == expected
