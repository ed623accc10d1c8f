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


def write_outputs(forecast, out, *, comparison=None, force=False) -> dict:
    """Write trajectory.csv, sources.csv, diagnostics.json, posterior.nc and trajectory.png.

    Files are written to a temporary directory beside ``out`` and swapped in at
    the end, so an interrupted run leaves the previous complete outputs (or
    none), never a mix. Returns the diagnostics.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import fan_chart, sources_forest

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
        ax = fan_chart(forecast)
        if not diag["converged"]:
            ax.text(0.5, 0.5, "NOT CONVERGED: see diagnostics.json", transform=ax.transAxes, ha="center",
                    color="#D55E00", fontsize=16, alpha=0.6)
        ax.figure.savefig(tmp / "trajectory.png", dpi=120)
        plt.close(ax.figure)
        axes = sources_forest(forecast)
        axes[0].figure.savefig(tmp / "sources.png", dpi=120)
        plt.close(axes[0].figure)
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
