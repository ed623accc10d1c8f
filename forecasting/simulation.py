"""Simulate cases from the model's own generative story (for checks and calibration)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from . import kalman
from .evidence import Case, Report, Source


def simulate_trajectory(kind, params, days, x0, rng) -> np.ndarray:
    """A daily log-level path from the state space of :mod:`forecasting.kalman`."""
    a, c, q = kalman.transition(kind, params, 1.0)
    x = np.empty(days)
    x[0] = x0
    for t in range(1, days):
        x[t] = a * x[t - 1] + c + math.sqrt(q) * rng.standard_normal()
    return x


def simulate_case(*, rng, days=90, kind="random_walk", params=None, x0=None,
                  sources=None, n_reports=40, kinds=("approximately", "at_least", "up_to", "between"),
                  start=dt.date(2024, 1, 1), name="simulated"):
    """Simulate a case: a true path, then claims drawn from each source's bias and noise.

    Bounds and ranges are drawn around the source's (unseen) reading, so their
    censoring is independent of the truth given that reading, as the model assumes.

    Returns
    -------
    case : Case
    truth : dict
        ``log_level`` (array over days), ``bias`` and ``noise`` per source name.
    """
    x0 = math.log(3000.0) if x0 is None else x0
    params = params or {"wander": 0.02, "drift": 0.005}
    sources = sources or {"A": (0.0, 0.1), "B": (0.2, 0.2), "C": (-0.2, 0.3)}  # name: (log bias, noise)
    x = simulate_trajectory(kind, params, days, x0, rng)
    names = list(sources)
    reports = []
    for _ in range(n_reports):
        day = int(rng.integers(0, days))
        s = names[int(rng.integers(0, len(names)))]
        bias, noise = sources[s]
        reading = x[day] + bias + noise * rng.standard_normal()
        claim = kinds[int(rng.integers(0, len(kinds)))]
        date = start + dt.timedelta(days=day)
        gap = rng.exponential(0.3)
        if claim == "approximately":
            r = Report(date, s, claim, value=math.exp(reading))
        elif claim == "at_least":
            r = Report(date, s, claim, value=math.exp(reading - gap))
        elif claim == "up_to":
            r = Report(date, s, claim, value=math.exp(reading + gap))
        else:
            lo = reading - rng.uniform(0.01, 0.4)
            r = Report(date, s, claim, low=math.exp(lo), high=math.exp(lo + rng.uniform(0.05, 0.5) + (reading - lo)))
        reports.append(r)
    reports.sort(key=lambda r: r.date)
    case = Case(name, "units", start, start + dt.timedelta(days=days - 1), tuple(reports),
                sources=tuple(Source(n) for n in names), trajectory=kind)
    truth = {"log_level": x, "bias": {n: v[0] for n, v in sources.items()},
             "noise": {n: v[1] for n, v in sources.items()}}
    return case, truth
