"""The benchmark suite runs and produces every figure (a smoke test: no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmarks_produce_every_figure(tmp_path):
    out = tmp_path / "results.csv"
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out),
                        "--reference-limit", "120"], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    table = pd.read_csv(out)
    assert list(table.columns[:4]) == ["figure", "this_library", "reference", "reference_note"]
    figures = " | ".join(table["figure"])
    for needle in ("machine probe at the start", "machine probe at the end", "cold start, first run",
                   "warm refit after adding one report", "warm refit after moving as_of", "sampling efficiency", "scenario propagation", "scale: fit",
                   "scale: peak memory", "SBC random_walk", "SBC saturating"):
        assert needle in figures, needle
    assert table["machine"].nunique() == 1 and table["quick"].all()
    assert "ratio" in p.stdout  # the printed table
