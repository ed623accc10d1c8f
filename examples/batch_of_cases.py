"""A batch of cases fitted in turn: one output folder each, and one summary table.

The batch: the built-in case as it stood at three forecast dates (reports made later ignored),
and a SIMULATED case (forecasting.simulation; its figures describe nothing real) whose true level
is known, so the summary can say whether the truth fell inside the 90% interval.

    python examples/batch_of_cases.py --out batch
"""

from pathlib import Path

import numpy as np
import pandas as pd

import forecasting as fc
from forecasting.outputs import write_outputs
from forecasting.simulation import simulate_case

from _settings import fit_settings, parser, run


def cases(seed):
    """(name, case, true final level or None)."""
    out = [(f"nk_as_of_{d}", fc.builtin_case(as_of=d), None) for d in ("2024-10-25", "2024-11-15", "2025-01-31")]
    sim, truth = simulate_case(rng=np.random.default_rng(seed), days=90, n_reports=30,
                               name="SIMULATED: random walk, three sources")
    out.append(("simulated", sim, float(np.exp(truth["log_level"][-1]))))
    return out


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    root = Path(args.out or "batch_of_cases")
    rows = []
    for name, case, truth in cases(args.seed):
        forecast = fc.fit(case, **fit_settings(args))
        diag = write_outputs(forecast, root / name, force=True)
        last = forecast.trajectory().iloc[-1]
        rows.append({"case": name, "as_of": case.as_of, "reports_used": len(case.active_reports),
                     "horizon": case.horizon, "median": last.q50, "q05": last.q05, "q95": last.q95,
                     "truth": truth, "truth_inside_90": None if truth is None else bool(last.q05 <= truth <= last.q95),
                     "converged": diag["converged"], "rhat_max": diag["rhat_max"],
                     "ess_bulk_min": diag["ess_bulk_min"]})
        print(f"{name}: median {last.q50:,.0f} on {case.horizon}; converged {diag['converged']}")
    summary = pd.DataFrame(rows)
    summary.to_csv(root / "summary.csv", index=False, float_format="%.6g")
    print(f"wrote {root}/summary.csv and one folder per case")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
