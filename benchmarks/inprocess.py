"""One side of the in-process benchmarks (run by ``benchmarks/run.py``): prints one JSON line.

``ours``: the default compiled-density sampler; ``reference``: ``pm.sample`` defaults.
Both fit the built-in case once (warming whatever can be warmed), then time a
refit after adding one report and after moving ``as_of``; sampling efficiency
is bulk ESS (minimum over the sampled parameters) per second of sampling.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import warnings

import arviz as az
import numpy as np

warnings.filterwarnings("ignore")

import forecasting as fc  # noqa: E402
from forecasting.fit import sample_posterior  # noqa: E402
from forecasting.model import design  # noqa: E402

side = sys.argv[1]
quick = "--quick" in sys.argv
settings = dict(draws=100, tune=100, chains=2) if quick else dict(draws=1000, tune=1000, chains=4)
# ours: the library's defaults; reference: pm.sample's defaults
settings.update(sampler="nutpie", target_accept="auto") if side == "ours" else settings.update(sampler="pymc",
                                                                                                target_accept=0.8)
case = fc.builtin_case()
fc.fit(case, seed=1, **settings)  # warm: compile caches, imports

new = fc.Report(case.reports[-1].date, case.reports[-1].source, "approximately", 12000, note="benchmark: one more report")
t = time.perf_counter()
fc.fit(case.add_report(new), seed=2, **settings)
refit_add = time.perf_counter() - t
t = time.perf_counter()
fc.fit(case.with_(as_of=case.reports[-1].date - dt.timedelta(days=30)), seed=3, **settings)
refit_as_of = time.perf_counter() - t

d = design(case)
t = time.perf_counter()
idata = sample_posterior(d, seed=4, progress=False, **settings)
elapsed = time.perf_counter() - t
sampling_s = float(idata.posterior.attrs.get("sampling_time", elapsed)) if side == "reference" else elapsed
names = [v for v in idata.posterior.data_vars if v not in ("reading_mean", "reading_var", "bias", "noise")]
ess = az.ess(idata.posterior[names], method="bulk")
ess_min = float(min(np.nanmin(ess[v].values) for v in names))
out = {"refit_add_s": refit_add, "refit_as_of_s": refit_as_of, "sampling_s": sampling_s, "ess_bulk_min": ess_min,
       "ess_per_s": ess_min / sampling_s, "divergences": int(idata.sample_stats["diverging"].values.sum())}
if side == "ours":
    forecast = fc.fit(case, seed=5, **settings)
    fc.simulate(forecast, seed=5)
    t = time.perf_counter()
    fc.simulate(forecast, seed=6)
    out["scenarios_s"] = time.perf_counter() - t
print(json.dumps(out))
