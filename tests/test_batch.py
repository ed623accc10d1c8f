"""Batches of fits: local processes and a Dask LocalCluster; failures kept apart; reruns skip."""

import json
import math

import pytest

import forecasting as fc
from forecasting import CaseError
from forecasting.backtest import Settings, score_vintage
from forecasting.batch import Job, run_batch, write_atomic


def test_in_process_batch_keeps_others_when_one_fails(tmp_path):
    jobs = [Job("a", math.sqrt, (4.0,)), Job("b", math.sqrt, (-1.0,)), Job("c", math.sqrt, (9.0,))]
    r = run_batch(jobs, tmp_path, workers=1, progress=False)
    assert r.results == {"a": 2.0, "c": 3.0}
    assert list(r.failures) == ["b"] and "math domain error" in r.failures["b"]
    assert (tmp_path / "b.failed.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.failed.txt", "c.json"]  # no temp files
    again = run_batch(jobs, tmp_path, workers=1, progress=False)
    assert sorted(again.skipped) == ["a", "c"] and list(again.failures) == ["b"]


def test_local_processes(tmp_path):
    jobs = [Job(str(i), math.factorial, (i,)) for i in range(4)] + [Job("bad", math.factorial, (-1,))]
    r = run_batch(jobs, tmp_path, workers=2, progress=True)
    assert r.results == {str(i): math.factorial(i) for i in range(4)}
    assert list(r.failures) == ["bad"]


def test_atomic_write_and_json(tmp_path):
    import numpy as np

    write_atomic(tmp_path / "x.json", {"a": np.float64(1.5), "b": [float("nan")], "c": np.arange(2)})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1.5, "b": [None], "c": [0, 1]}


def test_bad_keys(tmp_path):
    with pytest.raises(CaseError, match="file name"):
        run_batch([Job("../x", max, (1, 2))], tmp_path, workers=1, progress=False)
    with pytest.raises(CaseError, match="duplicate"):
        run_batch([Job("x", max, (1, 2)), Job("x", max, (1, 2))], tmp_path, workers=1, progress=False)


def test_unreachable_scheduler_is_bad_input(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("forecasting.batch.CONNECT_TIMEOUT", "2s")
    with pytest.raises(CaseError, match="scheduler"):
        run_batch([Job("x", max, (1, 2))], tmp_path, scheduler="tcp://127.0.0.1:1", progress=False)


@pytest.mark.slow
def test_dask_local_cluster_three_fits_one_failing(tmp_path):
    distributed = pytest.importorskip("distributed")
    case = fc.builtin_case()
    s = Settings(draws=100, tune=100, chains=2, scenario_draws=200, methods=("model", "latest"))
    # the third vintage is before the first report: its fit fails with a CaseError
    jobs = [Job(v, score_vintage, (case, v, s)) for v in ("2024-10-17", "2024-10-24", "2024-09-01")]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        r = run_batch(jobs, tmp_path, scheduler=client, progress=False)
        assert sorted(r.results) == ["2024-10-17", "2024-10-24"]
        assert list(r.failures) == ["2024-09-01"] and "no report was made" in r.failures["2024-09-01"]
        assert r.results["2024-10-24"]["vintage"] == "2024-10-24"
        stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")}
        again = run_batch(jobs, tmp_path, scheduler=cluster.scheduler_address, progress=False)
        assert sorted(again.skipped) == ["2024-10-17", "2024-10-24"] and list(again.failures) == ["2024-09-01"]
        assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")} == stamps


def test_a_crashed_worker_process_loses_no_finished_result(tmp_path):
    import os

    good = [Job(str(i), math.factorial, (i,)) for i in range(3)]
    r = run_batch(good[:2] + [Job("crash", os._exit, (3,))] + good[2:], tmp_path, workers=2, progress=False)
    assert "crash" in r.failures
    assert set(r.results) | set(r.failures) == {"0", "1", "2", "crash"}  # every job accounted for
    assert all(r.results[k] == math.factorial(int(k)) for k in r.results)
    again = run_batch(good, tmp_path, workers=2, progress=False)
    assert again.results == {str(i): math.factorial(i) for i in range(3)}
    assert set(again.skipped) == set(r.results)  # what had finished was kept, not rerun
