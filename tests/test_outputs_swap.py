"""A crash between the two renames of the output swap leaves the previous outputs in place."""

import os

import pytest

import forecasting as fc
from forecasting import outputs


def test_interrupted_swap_restores_previous_outputs(tmp_path, monkeypatch):
    forecast = fc.fit(fc.builtin_case(), draws=100, tune=200, chains=2, seed=1)
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
