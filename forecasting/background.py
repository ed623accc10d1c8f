"""Work done in a forked child process while the parent goes on.

After sampling, a run is single-threaded Python (diagnostics, scenario
simulation, NetCDF, plots), so a second core sits idle. :class:`Job` runs one
function in a child forked from the current process: the child sees the
parent's memory as it was (nothing is pickled on the way in, nothing is
imported again) and sends back only the result. Off Linux, with
``FORECASTING_NO_FORK=1``, or when the child fails in any way, the function
runs in the parent instead when its result is asked for, so the outcome (a
value or the function's own exception) is the same either way; only the time
differs.

Use it only for functions of in-memory data: a child must not share an open
HDF5 file with its parent.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import warnings

__all__ = ["Job"]


def _can_fork() -> bool:
    # Linux only: on macOS a fork after system frameworks have started threads can crash the child
    # (which is why Python's default there is spawn). FORECASTING_NO_FORK=1 turns it off anywhere.
    return sys.platform.startswith("linux") and hasattr(os, "fork") and not os.environ.get("FORECASTING_NO_FORK")


def _child(send, fn, args, kwargs):
    try:
        value = fn(*args, **kwargs)
    except BaseException:  # the parent reruns it and raises the error itself, with its own traceback
        send.send((False, None))
    else:
        try:
            send.send((True, value))
        except Exception:  # an unpicklable result: the parent computes it
            send.send((False, None))
    finally:
        send.close()


class Job:
    """``fn(*args, **kwargs)`` started now in a forked child; :meth:`result` waits for it.

    Also a context manager: leaving the block stops a child whose result was not
    taken (an error in the parent's own work, say), so nothing outlives the run.
    """

    def __init__(self, fn, *args, **kwargs):
        self._call = (fn, args, kwargs)
        self._proc = None
        if _can_fork():
            ctx = mp.get_context("fork")
            self._recv, send = ctx.Pipe(duplex=False)
            for stream in (sys.stdout, sys.stderr):  # else the child would print the parent's buffered text again
                stream.flush()
            with warnings.catch_warnings():
                # Python 3.12+ warns of fork in a threaded process: the threads here are idle
                # sampler and BLAS pools, which the child never touches
                warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
                self._proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
                self._proc.start()
            send.close()

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child (else it runs in :meth:`result`)."""
        return self._proc is not None

    def result(self):
        """The function's value (or its exception, raised here)."""
        fn, args, kwargs = self._call
        if self._proc is None:
            return fn(*args, **kwargs)
        try:
            ok, value = self._recv.recv()
        except (EOFError, OSError):  # the child died without a word (killed, out of memory)
            ok, value = False, None
        finally:
            self._recv.close()
            self._proc.join()
            self._proc = None
        return value if ok else fn(*args, **kwargs)

    def cancel(self) -> None:
        """Stop the child, if it still runs, and wait for it to go."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join()
            self._recv.close()
            self._proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()
        return False
