"""One point of the scale benchmark (run by ``benchmarks/run.py``): prints one JSON line.

A case simulated from the model (:func:`forecasting.simulation.simulate_case`):
N reports from S sources with random biases and noise, a random walk over a
daily grid of D days; fitted with the library's defaults.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import forecasting as fc  # noqa: E402
from forecasting.simulation import simulate_case  # noqa: E402

n, S, days = (int(v) for v in sys.argv[1:4])
quick = "--quick" in sys.argv
rng = np.random.default_rng(20241023)
sources = {f"source {i:02d}": (rng.normal(0.0, 0.2), rng.uniform(0.05, 0.4)) for i in range(S)}
case, _ = simulate_case(rng=rng, days=days, n_reports=n, sources=sources, params={"wander": 0.02, "drift": 0.003})
settings = dict(draws=100, tune=100, chains=2) if quick else {}
fc.fit(case.with_(reports=case.reports[:20]), seed=0, draws=20, tune=20, chains=1)  # load the compiled density
t = time.perf_counter()
forecast = fc.fit(case, seed=1, **settings)
fit_s = time.perf_counter() - t
peak_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
diag = forecast.diagnostics()
print(json.dumps({"fit_s": fit_s, "peak_fit_mb": peak_fit,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "divergences": diag["divergences"], "rhat_max": diag["rhat_max"],
                  "ess_bulk_min": diag["ess_bulk_min"]}))
