"""A backtest of the built-in case: refit it as it stood at several forecast dates and score each forecast.

Each vintage (forecast date) sees only the reports made on or before it; its forecast is scored
against every later report (CRPS and log score on the log scale, coverage of the 50% and 90%
intervals) and against the recorded outcomes of the scenarios still open (Brier score), beside
simple baselines (the latest figure, the median figure, the largest claim, and the model without
source biases). See docs/evaluation.md for what the scores mean.

    python examples/backtest.py --every 14D --out backtest
"""

from pathlib import Path

import forecasting as fc
from forecasting.backtest import Settings

from _settings import parser, run


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--every", default="14D", help="time between vintages (pandas offset, e.g. 7D)")
    p.add_argument("--workers", type=int, default=1, help="local processes (1: in this process)")
    args = p.parse_args(argv)
    out = Path(args.out or "backtest")
    bt = fc.backtest(fc.builtin_case(), every=args.every, workers=args.workers, out=out / "vintages",
                     settings=Settings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed,
                                       scenario_draws=args.sim_draws))
    written = bt.write(out)
    summary = bt.summary()
    cols = [c for c in ("against", "method", "n", "crps", "coverage50", "coverage90") if c in summary]
    print(f"{len(bt.vintages)} vintages: {', '.join(bt.vintages)}")
    print(summary[cols].round(3).to_string(index=False))
    if len(bt.scenarios):
        print(bt.scenario_summary()[["method", "n", "events", "brier"]].round(3).to_string(index=False))
    print(f"wrote {', '.join(p.name for p in written)} to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
