"""Write a forecast's files to a directory, all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import CaseError

MARKER = ".forecasting.json"


def _check_target(out: Path, case_name: str, force: bool):
    if not out.exists():
        return
    if not out.is_dir():
        raise CaseError("exists and is not a directory", file=str(out), expected="a new or forecasting output directory")
    marker = out / MARKER
    if marker.is_file():
        try:
            previous = json.loads(marker.read_text()).get("case")
        except (OSError, ValueError):
            previous = None
        if previous == case_name or force:
            return
        raise CaseError(f"holds outputs of another case ({previous!r})", file=str(out),
                        expected="a fresh directory, or --force to replace it")
    if any(out.iterdir()) and not force:
        raise CaseError("is not empty and was not written by forecasting", file=str(out),
                        expected="a fresh directory, or --force to replace it")


def _save(ax, path):
    import matplotlib.pyplot as plt

    ax.figure.savefig(path, dpi=120)
    plt.close(ax.figure)


def _write_scenarios(tmp: Path, result, sensitivity, *, converged: bool):
    from . import plotting

    fmt = {"index": False, "float_format": "%.6g"}
    table = result.table()
    if not converged:
        table["note"] = "trajectory fit did not converge: see diagnostics.json"
    table.to_csv(tmp / "scenarios.csv", **fmt)
    result.joint().to_csv(tmp / "scenario_joint.csv", **fmt)
    result.curves().to_csv(tmp / "scenario_curves.csv", **fmt)
    result.paths().to_csv(tmp / "scenario_paths.csv", **fmt)
    _save(plotting.scenario_probabilities(result), tmp / "scenarios.png")
    _save(plotting.probability_over_time(result), tmp / "scenario_curves.png")
    _save(plotting.conditional_matrix(result), tmp / "scenario_joint.png")
    if sensitivity is not None and len(sensitivity):
        sensitivity.to_csv(tmp / "sensitivity.csv", **fmt)
        _save(plotting.tornado(sensitivity), tmp / "sensitivity.png")


def write_outputs(forecast, out, *, comparison=None, scenarios=None, sensitivity=None, what_ifs=None,
                  force=False) -> dict:
    """Write trajectory.csv, sources.csv, diagnostics.json, posterior.nc and trajectory.png.

    With a scenario result (:func:`forecasting.scenarios.simulate`) also
    scenarios.csv, scenario_joint.csv, scenario_curves.csv, scenario_paths.csv and
    their plots; with a sensitivity table, sensitivity.csv and sensitivity.png;
    with what-ifs (:func:`forecasting.scenarios.what_if`), whatif.csv.

    Files are written to a temporary directory beside ``out`` and swapped in at
    the end, so an interrupted run leaves the previous complete outputs (or
    none), never a mix. Returns the diagnostics.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plotting

    out = Path(out)
    _check_target(out, forecast.case.name, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        forecast.trajectory().to_csv(tmp / "trajectory.csv", index=False, float_format="%.6g")
        forecast.sources().to_csv(tmp / "sources.csv", index=False, float_format="%.6g")
        diag = forecast.diagnostics()
        (tmp / "diagnostics.json").write_text(json.dumps(diag, indent=2) + "\n")
        if comparison is not None:
            comparison.to_csv(tmp / "model_comparison.csv", float_format="%.6g")
        forecast.save(tmp / "posterior.nc")
        ax = plotting.fan_chart(forecast)
        if not diag["converged"]:
            ax.text(0.5, 0.5, "NOT CONVERGED: see diagnostics.json", transform=ax.transAxes, ha="center",
                    color="#D55E00", fontsize=16, alpha=0.6)
        ax.figure.savefig(tmp / "trajectory.png", dpi=120)
        plt.close(ax.figure)
        axes = plotting.sources_forest(forecast)
        axes[0].figure.savefig(tmp / "sources.png", dpi=120)
        plt.close(axes[0].figure)
        if scenarios is not None and scenarios.scenarios:
            _write_scenarios(tmp, scenarios, sensitivity, converged=diag["converged"])
        if what_ifs:
            import pandas as pd

            tables = []
            for w in what_ifs:
                t = w.table()
                t.insert(0, "condition", w.condition)
                t.insert(1, "condition_probability", w.condition_probability)
                tables.append(t)
            pd.concat(tables, ignore_index=True).to_csv(tmp / "whatif.csv", index=False, float_format="%.6g")
        (tmp / MARKER).write_text(json.dumps({"case": forecast.case.name}) + "\n")
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return diag
