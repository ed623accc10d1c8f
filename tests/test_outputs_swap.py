"""A crash between the two renames of the output swap leaves the previous outputs in place."""

import os

import pytest

import forecasting as fc
from forecasting import outputs


@pytest.fixture(scope="module")
def forecast():
    return fc.fit(fc.builtin_case(), draws=100, tune=200, chains=2, seed=1)


def test_interrupted_swap_restores_previous_outputs(forecast, tmp_path, monkeypatch):
    out = tmp_path / "out"
    outputs.write_outputs(forecast, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the rename of the new outputs into place
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", flaky)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_outputs(forecast, out)
    monkeypatch.setattr(outputs.os, "replace", real)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary directories left


def test_parallel_writes_the_same_files(forecast, tmp_path):
    outputs.write_outputs(forecast, tmp_path / "serial", report=False)
    outputs.write_outputs(forecast, tmp_path / "parallel", report=False, parallel=True)
    serial, parallel = (sorted(p.name for p in (tmp_path / d).iterdir()) for d in ("serial", "parallel"))
    assert parallel == serial
    for name in ("trajectory.csv", "sources.csv", "diagnostics.json"):
        assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
    again = fc.Forecast.load(tmp_path / "parallel" / "posterior.nc")
    assert again.trajectory().equals(fc.Forecast.load(tmp_path / "serial" / "posterior.nc").trajectory())


def test_parallel_failure_leaves_nothing_behind(forecast, tmp_path, monkeypatch):
    from forecasting import plotting

    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plotting, "sources_forest", broken)  # fails while the child may still be saving
    with pytest.raises(RuntimeError, match="plot failed"):
        outputs.write_outputs(forecast, tmp_path / "out", parallel=True)
    assert list(tmp_path.iterdir()) == []
