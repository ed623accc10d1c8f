"""forecasting.background.Job: the same outcome as a plain call, forked or not."""

import os
import sys
import time

import numpy as np
import pytest

from forecasting.background import Job
from forecasting.errors import CaseError

forking = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def _pid_and_sum(a):
    return os.getpid(), float(np.sum(a))


def _fail():
    raise CaseError("bad entry", entry="scenario 'x'", field="base_rate")


_calls = []


def _die_in_child(parent):
    if os.getpid() != parent:
        os._exit(9)  # a child killed mid-work: no result comes back
    _calls.append("parent")
    return "computed in the parent"


@forking
def test_runs_in_a_child_on_the_parents_memory():
    a = np.arange(1_000_000, dtype=float)  # not pickled on the way in: the child sees it
    with Job(_pid_and_sum, a) as job:
        assert job.forked
        pid, total = job.result()
    assert pid != os.getpid()
    assert total == float(a.sum())


def test_without_fork_runs_in_the_parent(monkeypatch):
    monkeypatch.setenv("FORECASTING_NO_FORK", "1")
    job = Job(_pid_and_sum, np.ones(3))
    assert not job.forked
    assert job.result() == (os.getpid(), 3.0)


@pytest.mark.parametrize("no_fork", ["", "1"])
def test_an_error_is_the_functions_own(monkeypatch, no_fork):
    monkeypatch.setenv("FORECASTING_NO_FORK", no_fork)
    with pytest.raises(CaseError, match="bad entry") as e, Job(_fail) as job:
        job.result()
    assert e.value.field == "base_rate"


@forking
def test_a_child_that_dies_is_replaced_by_the_parent():
    _calls.clear()
    with Job(_die_in_child, os.getpid()) as job:
        assert job.result() == "computed in the parent"
    assert _calls == ["parent"]


@forking
def test_leaving_the_block_stops_the_child():
    with Job(time.sleep, 60) as job:
        proc = job._proc
        assert proc.is_alive()
    assert not proc.is_alive()
