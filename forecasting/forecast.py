"""A fitted case: the posterior, and the tables and diagnostics read off it."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .model import Design

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
RELATED_GROUP = "related"  # where a saved forecast keeps its independent quantities' fits
RHAT_MAX = 1.01
ESS_MIN = 400
# A 90% interval wider than x10 (e.g. 1,000 to 10,000) is too wide to act on as a point figure.
WIDE_INTERVAL = 10.0


class Forecast:
    """The result of :func:`forecasting.fit`.

    Attributes
    ----------
    case : Case
    idata : arviz.InferenceData
        Posterior (sampled parameters, ``log_level`` trajectory draws by date),
        sample stats and pointwise ``log_likelihood`` of each claim.
    related : dict of str to Forecast
        The fits of the case's independent quantities
        (:func:`forecasting.quantities.independent_cases`), by name; empty when it
        has none. They share the case's dates; their draws are not paired with the
        primary's (the posteriors are independent).
    """

    def __init__(self, case, idata, design: Design | None = None, related=None):
        from .model import design as make_design

        self.case = case
        self.idata = idata
        self.design = design or make_design(case)
        self.related = dict(related or {})

    # ----------------------------------------------------------------- tables
    @property
    def level_draws(self) -> np.ndarray:
        """Trajectory draws in the case's unit, shape (n_draws, n_days)."""
        x = self.idata.posterior["log_level"].values
        return np.exp(x.reshape(-1, x.shape[-1]))

    def trajectory(self) -> pd.DataFrame:
        """Daily posterior summary of the true level: ``date,mean,q05,q25,q50,q75,q95``."""
        lv = self.level_draws
        out = pd.DataFrame({"date": self.design.dates.date, "mean": lv.mean(axis=0)})
        for q, v in zip(QUANTILES, np.quantile(lv, QUANTILES, axis=0)):
            out[f"q{round(q * 100):02d}"] = v
        return out

    def level_on(self, date) -> np.ndarray:
        """Posterior draws of the level on one date."""
        i = self.design.dates.get_loc(pd.Timestamp(date))
        return self.level_draws[:, i]

    def sources(self) -> pd.DataFrame:
        """Each source's bias (claimed / true) and noise (typical error of log claims) with 90% intervals."""
        post = self.idata.posterior
        rows = []
        grades = {s.name: s for s in self.case.sources}
        counts = pd.Series([self.case.reports[i].source for i in self.design.report_index]).value_counts()
        for i, name in enumerate(self.design.source_names):
            b = np.exp(post["bias"].values[..., i].ravel())
            s = post["noise"].values[..., i].ravel()
            src = grades[name]
            rows.append({
                "source": name,
                "grade": src.grade or "",
                "declared_bias": f"{src.bias[0]:g}-{src.bias[1]:g}" if src.bias else "",
                "reports": int(counts.get(name, 0)),
                "bias_median": np.median(b),
                "bias_q05": np.quantile(b, 0.05),
                "bias_q95": np.quantile(b, 0.95),
                "noise_median": np.median(s),
                "noise_q05": np.quantile(s, 0.05),
                "noise_q95": np.quantile(s, 0.95),
            })
        return pd.DataFrame(rows)

    # ------------------------------------------------------------ diagnostics
    def diagnostics(self) -> dict:
        """Convergence summary: R-hat, bulk ESS (parameters and every trajectory day), divergences.

        Also ``horizon_interval_factor`` (q95 / q05 of the level at the horizon) and
        ``evidence_notes``: plain-words warnings that the evidence is weak
        (:func:`forecasting.evidence.evidence_notes`, plus a note when that factor is
        ``WIDE_INTERVAL`` (10) or more). Notes do not make a fit unconverged.
        """
        import arviz as az

        post = self.idata.posterior
        names = [v for v in post.data_vars if v not in ("reading_mean", "reading_var")]
        # R-hat compares chains: with one chain it is undefined (NaN), which must fail the check, not pass it
        if post.sizes["chain"] >= 2:
            rhat = az.rhat(post[names])
            rhat_by = {v: _finite_extreme(rhat[v].values, np.max) for v in names}
        else:
            rhat_by = dict.fromkeys(names, math.nan)
        ess = az.ess(post[names], method="bulk")
        ess_by = {v: _finite_extreme(ess[v].values, np.min) for v in names}
        div = int(self.idata.sample_stats["diverging"].values.sum())
        n = int(post.sizes["chain"] * post.sizes["draw"])
        rhat_worst = max(rhat_by, key=lambda v: -math.inf if math.isnan(rhat_by[v]) else rhat_by[v])
        ess_worst = min(ess_by, key=lambda v: math.inf if math.isnan(ess_by[v]) else ess_by[v])
        out = {
            "rhat_max": rhat_by[rhat_worst],
            "rhat_worst": rhat_worst,
            "ess_bulk_min": ess_by[ess_worst],
            "ess_bulk_worst": ess_worst,
            "ess_bulk_min_trajectory": ess_by["log_level"],
            "divergences": div,
            "draws": n,
            "chains": int(post.sizes["chain"]),
            "sampler": str(self.idata.attrs.get("sampler", "")),
            "seed": None if self.idata.attrs.get("seed") is None else int(self.idata.attrs["seed"]),
            "thresholds": {"rhat_max": RHAT_MAX, "ess_bulk_min": ESS_MIN, "divergences": 0},
        }
        problems = []
        if div:
            problems.append(f"{div} divergent transitions ({div / n:.1%} of draws): raise target_accept (--target-accept 0.995) "
                            "or check for contradictory claims")
        if math.isnan(out["rhat_max"]):
            problems.append(f"R-hat cannot be computed from {out['chains']} chain{'s' * (out['chains'] != 1)}: "
                            "run 2 or more (--chains 4)")
        elif out["rhat_max"] > RHAT_MAX:
            problems.append(f"R-hat {out['rhat_max']:.3f} > {RHAT_MAX} for {out['rhat_worst']}: run longer "
                            "(--tune, --draws) or more chains")
        if not out["ess_bulk_min"] >= ESS_MIN:  # NaN (too few draws to estimate) fails too
            problems.append(f"bulk ESS {out['ess_bulk_min']:.0f} < {ESS_MIN} for {out['ess_bulk_worst']}: "
                            "increase --draws")
        if self.related:  # independent quantities: each fit's own checks, and any failure fails the whole
            out["quantities"] = {name: f.diagnostics() for name, f in self.related.items()}
            for name, q in out["quantities"].items():
                problems += [f"{name}: {p}" for p in q["problems"]]
        out["converged"] = not problems
        out["problems"] = problems
        out.update(self._evidence())
        for name, q in out.get("quantities", {}).items():
            out["evidence_notes"] += [f"{name}: {n}" for n in q["evidence_notes"]]
        return {k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else v) for k, v in out.items()}

    def _evidence(self) -> dict:
        """``horizon_interval_factor`` and ``evidence_notes``: weak evidence, told apart from failed sampling."""
        from .evidence import evidence_notes

        x = self.idata.posterior["log_level"].values[..., -1].ravel()
        lo, hi = np.quantile(x, [0.05, 0.95])
        factor = float(np.exp(hi - lo)) if np.isfinite(hi - lo) and hi - lo < 700 else None
        notes = evidence_notes(self.case)
        if factor is None or factor >= WIDE_INTERVAL:
            notes.append(f"at the horizon ({self.case.horizon}) the 90% interval is {_figure(np.exp(lo))} to "
                         f"{_figure(np.exp(hi))} {self.case.unit}, a factor of {_figure(factor or np.inf)}: "
                         "the evidence does not pin the level down there")
        return {"horizon_interval_factor": factor, "evidence_notes": notes}

    @property
    def converged(self) -> bool:
        return self.diagnostics()["converged"]

    # ------------------------------------------------------------- save/load
    def save(self, path) -> None:
        """Save the posterior and the case it came from as one NetCDF file.

        Each independent quantity's fit (``related``) goes into the same file, as
        the groups under ``related/<name>``.
        """
        self._idata_to_save().to_netcdf(str(path), engine="h5netcdf")
        for name, f in self.related.items():
            f._idata_to_save().to_netcdf(str(path), engine="h5netcdf", base_group=f"{RELATED_GROUP}/{name}",
                                         overwrite_existing=False)

    def _idata_to_save(self):
        from .casefile import case_to_dict

        idata = self.idata.copy()
        idata.attrs["case"] = json.dumps(case_to_dict(self.case))
        idata.attrs["forecasting_version"] = _version()
        if self.related:
            idata.attrs["related"] = json.dumps(list(self.related))
        return idata

    @classmethod
    def load(cls, path) -> Forecast:
        """Load a saved forecast; every table is rebuilt from it without resampling."""
        import arviz as az

        from .casefile import case_from_plain
        from .errors import CaseError

        path = Path(path)
        if not path.is_file():
            raise CaseError("no such file", file=str(path), expected="a posterior.nc written by forecasting")

        def read(base_group="/"):
            idata = az.InferenceData.from_netcdf(str(path), engine="h5netcdf", base_group=base_group)
            if RELATED_GROUP in idata.groups():  # the related fits' parent group, not part of this posterior
                idata = az.InferenceData(attrs=dict(idata.attrs),
                                         **{g: idata[g] for g in idata.groups() if g != RELATED_GROUP})
            return idata, case_from_plain(json.loads(idata.attrs["case"]), file=str(path))

        try:
            with warnings.catch_warnings():  # arviz warns of the non-standard group it is then dropped
                warnings.filterwarnings("ignore", message=f".*{RELATED_GROUP}.*", category=UserWarning)
                idata, case = read()
                names = json.loads(idata.attrs.get("related", "[]"))  # files before related fits have none
                related = {}
                for name in names:
                    sub_idata, sub_case = read(f"{RELATED_GROUP}/{name}")
                    related[name] = cls(sub_case, sub_idata)
        except CaseError:
            raise
        except Exception as e:  # any unreadable file is bad input, not a crash
            raise CaseError(f"not a saved forecast ({type(e).__name__}: {e})", file=str(path),
                            expected="a posterior.nc written by `forecasting run`") from None
        return cls(case, idata, related=related)


def _finite_extreme(values, pick) -> float:
    """``pick`` (np.max / np.min) over the finite values; NaN when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(pick(values)) if values.size else math.nan


def _figure(x: float) -> str:
    """A figure for a sentence: 12,345 or, beyond a million or below 1, 3.9e+17 / 0.042."""
    return f"{x:,.0f}" if 1 <= x < 1e6 else f"{x:.2g}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("forecasting")
    except PackageNotFoundError:
        return "unknown"
