"""Run independent fits in parallel: local processes by default, a Dask cluster on request.

Backtest vintages, simulation-based calibration and what-if sweeps are many
independent fits. :func:`run_batch` runs them, shows a progress bar (fits done /
remaining), writes each finished result to its own small JSON file as soon as it
arrives (atomically: a crash never leaves half a file) and, on a rerun with the
same folder, skips every job whose file exists. A job that fails is reported with
its key and does not lose the others.

Dask is optional (``pip install forecasting[dask]``); local processes need nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CaseError

CONNECT_TIMEOUT = "20s"  # how long to wait for a Dask scheduler before calling the address bad


@dataclass(frozen=True)
class Job:
    """One unit of work: ``fn(*args, **kwargs)`` must return JSON-serialisable data.

    ``fn`` must be importable by name (a module-level function) so worker
    processes and Dask workers can run it.
    """

    key: str
    fn: object
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class BatchResult:
    """What a batch produced.

    Attributes
    ----------
    results : dict
        Job key -> the job's (JSON round-tripped) result, for every finished job,
        including those finished by an earlier run.
    failures : dict
        Job key -> error message (with the remote traceback's last lines).
    skipped : list
        Keys found finished on disk and not rerun.
    """

    results: dict
    failures: dict
    skipped: list


def _plain(o):
    """JSON encoder fallback for numpy scalars/arrays and dates."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite(o):
    """NaN/inf are not JSON: store them as null (read back as NaN by pandas)."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def _safe_name(key: str) -> str:
    if not key or any(c in key for c in '/\\:*?"<>|') or key.startswith("."):
        raise CaseError(f"job key {key!r} cannot be a file name", field="key",
                        expected="letters, digits, -, _ and . (like 2024-10-23)")
    return key


def write_atomic(path: Path, data) -> None:
    """Write JSON to ``path`` via a temporary file and a rename (never a partial file)."""
    text = json.dumps(_finite(json.loads(json.dumps(data, default=_plain))), allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _call(fn, args, kwargs):
    return fn(*args, **kwargs)


def _error_text(e: BaseException, tb: str | None = None) -> str:
    tail = (tb or "".join(traceback.format_exception(e))).strip().splitlines()[-3:]
    return f"{type(e).__name__}: {e}" + ("\n    " + "\n    ".join(tail) if tail else "")


def run_batch(jobs, out, *, scheduler=None, workers: int | None = None, progress: bool = True,
              desc: str = "fits") -> BatchResult:
    """Run jobs, writing ``out/<key>.json`` as each finishes; skip keys already done.

    Parameters
    ----------
    jobs : sequence of Job
    out : str or Path
        Folder for the results (created). A failed job writes ``<key>.failed.txt``
        with its error; a rerun retries it.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:8786``) or a connected client; jobs then
        run on the cluster. Default: local processes.
    workers : int, optional
        Local processes (default: the number of CPUs, at most the number of jobs).
        ``1`` runs the jobs in this process, one after another.
    progress : bool
        Show a progress bar of fits done and remaining (tqdm, on stderr).
    desc : str
        Label of the progress bar.

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> from forecasting.batch import Job, run_batch
    >>> r = run_batch([Job("a", max, (1, 2))], "/tmp/fc-batch-doc", progress=False, workers=1)
    >>> r.results["a"]
    2
    """
    if progress:  # tqdm.auto warns in a notebook without ipywidgets, even when disabled
        from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = list(jobs)
    keys = [_safe_name(j.key) for j in jobs]
    if len(set(keys)) != len(keys):
        raise CaseError("duplicate job keys", field="key", expected="one job per key")
    results, failures, skipped = {}, {}, []
    todo = []
    for j in jobs:
        path = out / f"{j.key}.json"
        done = _read_result(path) if path.exists() else None
        if done is None:  # not run yet, or its file is unreadable: run it (again)
            todo.append(j)
        else:
            results[j.key] = done
            skipped.append(j.key)

    bar = (tqdm(total=len(jobs), initial=len(skipped), desc=desc, unit="fit", leave=True) if progress
           else _NoProgress())

    def done(job, value=None, error=None):
        if error is None:
            write_atomic(out / f"{job.key}.json", value)
            results[job.key] = json.loads((out / f"{job.key}.json").read_text(encoding="utf-8"))
            failed = out / f"{job.key}.failed.txt"
            if failed.exists():
                failed.unlink()
        else:
            failures[job.key] = error
            (out / f"{job.key}.failed.txt").write_text(error + "\n", encoding="utf-8")
            bar.write(f"failed: {job.key}: {error.splitlines()[0]}")
        bar.update(1)
        bar.set_postfix(failed=len(failures), refresh=False)

    try:
        if not todo:
            pass
        elif scheduler is not None:
            _run_dask(todo, scheduler, done)
        elif (workers or 0) == 1 or len(todo) == 1 and workers is None:
            for j in todo:
                try:
                    value = _call(j.fn, j.args, j.kwargs)
                except Exception as e:  # one bad fit must not lose the others
                    done(j, error=_error_text(e))
                else:
                    done(j, value)
        else:
            _run_local(todo, workers, done)
    finally:
        bar.close()
    return BatchResult(results, failures, skipped)


def _run_local(todo, workers, done):
    import multiprocessing as mp

    n = min(workers or os.cpu_count() or 1, len(todo))
    # spawn, not fork: the sampler's thread pools do not survive a fork
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_call, j.fn, j.args, j.kwargs): j for j in todo}
        for fut in as_completed(futures):
            j = futures[fut]
            try:
                value = fut.result()
            except Exception as e:  # includes a worker process that died (BrokenProcessPool)
                done(j, error=_error_text(e))
            else:
                done(j, value)


def _run_dask(todo, scheduler, done):
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise CaseError("a Dask scheduler was given but the distributed package is not installed",
                        entry="--scheduler", expected="pip install 'forecasting[dask]'") from None
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:
            raise CaseError(f"cannot connect to the Dask scheduler {scheduler!r}: {e}", entry="--scheduler",
                            expected="the address of a running scheduler, like tcp://host:8786") from None
    else:
        client = scheduler
    try:
        futures = {client.submit(_call, j.fn, j.args, j.kwargs, key=f"forecasting-{j.key}-{os.getpid()}",
                                 pure=False): j for j in todo}
        for fut in dask_completed(list(futures)):
            j = futures[fut]
            try:
                value = fut.result()
            except Exception as e:  # a failed or lost task is reported, the rest go on
                done(j, error=_error_text(e))
            else:
                done(j, value)
            fut.release()
    finally:
        if own:
            client.close()


class _NoProgress:
    """Stands in for a tqdm bar when progress is off; failures are still printed."""

    def write(self, message):
        import sys

        print(message, file=sys.stderr)

    def update(self, n=1):
        pass

    def set_postfix(self, **kwargs):
        pass

    def close(self):
        pass


def _read_result(path):
    """A finished job's result, or None if its file cannot be read back."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
