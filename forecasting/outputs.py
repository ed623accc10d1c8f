"""Write a forecast's files to a directory, all or nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .background import Job
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


UNCONVERGED_MARK = "NOT CONVERGED: see diagnostics.json"


def _mark_unconverged(fig):
    """Stamp a figure across its middle so a plot of an unconverged fit is never read as sound."""
    # sized to fit across the narrowest figure (a bold character is about 0.62 em wide)
    size = min(18.0, 0.8 * fig.get_figwidth() * 72 / (0.62 * len(UNCONVERGED_MARK)))
    fig.text(0.5, 0.5, UNCONVERGED_MARK, ha="center", va="center", rotation=15, color="#D55E00", fontsize=size,
             fontweight="bold", alpha=0.55, zorder=100, gid="unconverged")


def _save(ax, path, *, converged=True):
    import matplotlib.pyplot as plt

    fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure  # an Axes or an array of them
    if not converged:
        _mark_unconverged(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")  # legends sit outside the axes
    plt.close(fig)


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
    _save(plotting.scenario_probabilities(result), tmp / "scenarios.png", converged=converged)
    _save(plotting.probability_over_time(result), tmp / "scenario_curves.png", converged=converged)
    _save(plotting.conditional_matrix(result), tmp / "scenario_joint.png", converged=converged)
    if sensitivity is not None and len(sensitivity):
        sensitivity.to_csv(tmp / "sensitivity.csv", **fmt)
        _save(plotting.tornado(sensitivity), tmp / "sensitivity.png", converged=converged)


def write_outputs(forecast, out, *, comparison=None, scenarios=None, sensitivity=None, what_ifs=None,
                  force=False, report=True, diagnostics=None, parallel=False) -> dict:
    """Write trajectory.csv, sources.csv, diagnostics.json, posterior.nc, the plots and the report.

    Each related quantity gets trajectory_<name>.csv and trajectory_<name>.png; an
    independent one (``forecast.related``) also sources_<name>.csv, its
    convergence under ``quantities`` in diagnostics.json and a section of the report.

    With a scenario result (:func:`forecasting.scenarios.simulate`) also
    scenarios.csv, scenario_joint.csv, scenario_curves.csv, scenario_paths.csv and
    their plots; with a sensitivity table, sensitivity.csv and sensitivity.png;
    with what-ifs (:func:`forecasting.scenarios.what_if`), whatif.csv and whatif.png.
    With ``report`` (the default) also report.html (self-contained) and report.md
    (:mod:`forecasting.report`).

    Files are written to a temporary directory beside ``out`` and swapped in at
    the end, so an interrupted run leaves the previous complete outputs (or
    none), never a mix. Returns the diagnostics (``diagnostics``, if given, is
    ``forecast.diagnostics()`` computed already).

    With ``parallel``, posterior.nc is written by a child process
    (:class:`forecasting.background.Job`) while the tables and plots are drawn; the
    forecast must then be held in memory, not read lazily from a file.
    """
    import matplotlib

    matplotlib.use("Agg")

    from . import plotting

    out = Path(out)
    _check_target(out, forecast.case.name, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    old = None
    saving = Job(forecast.save, tmp / "posterior.nc") if parallel else None
    try:
        forecast.trajectory().to_csv(tmp / "trajectory.csv", index=False, float_format="%.6g")
        forecast.sources().to_csv(tmp / "sources.csv", index=False, float_format="%.6g")
        diag = forecast.diagnostics() if diagnostics is None else diagnostics
        (tmp / "diagnostics.json").write_text(json.dumps(diag, indent=2) + "\n")
        if comparison is not None:
            comparison.to_csv(tmp / "model_comparison.csv", float_format="%.6g")
        if saving is None:
            forecast.save(tmp / "posterior.nc")
        _save(plotting.fan_chart(forecast), tmp / "trajectory.png", converged=diag["converged"])
        _save(plotting.sources_forest(forecast), tmp / "sources.png", converged=diag["converged"])
        from . import quantities

        for name in quantities.names(forecast.case)[1:]:  # related quantities: their own table and chart
            quantities.trajectory(forecast, name).to_csv(tmp / f"trajectory_{name}.csv", index=False,
                                                         float_format="%.6g")
            _save(plotting.fan_chart(forecast, quantity=name), tmp / f"trajectory_{name}.png",
                  converged=diag["converged"])
        for name, other in getattr(forecast, "related", {}).items():  # independent quantities: their own fits
            other.trajectory().to_csv(tmp / f"trajectory_{name}.csv", index=False, float_format="%.6g")
            other.sources().to_csv(tmp / f"sources_{name}.csv", index=False, float_format="%.6g")
            _save(plotting.fan_chart(other), tmp / f"trajectory_{name}.png", converged=diag["converged"])
        if forecast.design.has_shares:
            quantities.shares(forecast).to_csv(tmp / "shares.csv", index=False, float_format="%.6g")
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
            _save(plotting.what_if_comparison(list(what_ifs)), tmp / "whatif.png", converged=diag["converged"])
        if report:
            from .report import figure_files, write_report

            # the report embeds the PNGs just written, so its figures are the files' (watermarks included)
            figures = {n: (tmp / n).read_bytes() for n in figure_files(forecast) if (tmp / n).is_file()}
            write_report(forecast, tmp, scenarios=scenarios, sensitivity=sensitivity, what_ifs=what_ifs,
                         comparison=comparison, diagnostics=diag, figures=figures)
        if saving is not None:
            saving.result()
        (tmp / MARKER).write_text(json.dumps({"case": forecast.case.name}) + "\n")
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "previous")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if saving is not None:
            saving.cancel()  # before the files go: the child may still be writing
        # interrupted between the two renames: put the previous outputs back
        if old is not None and (old / "previous").exists() and not out.exists():
            os.replace(old / "previous", out)
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return diag
