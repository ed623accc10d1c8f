"""The built-in case, then a sweep of what-ifs: how do the scenarios move with the deployment's size?

For each level N, the what-if "the deployment reaches N by 1 December 2024" keeps the posterior
trajectories in which it holds and reruns the same scenario simulations (common random numbers),
so the differences between rows carry little Monte Carlo noise.

    python examples/flagship_what_if_sweep.py --out sweep

writes the usual outputs of `forecasting run` (report.html included) plus sweep.csv and
sweep.png.
"""

from pathlib import Path

import pandas as pd

import forecasting as fc
from forecasting.outputs import write_outputs
from forecasting.plotting import style

from _settings import fit_settings, parser, run

LEVELS = (8000, 10000, 12000, 15000, 20000)
BY = "2024-12-01"


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    out = Path(args.out or "flagship_what_if_sweep")
    forecast = fc.fit(fc.builtin_case(), **fit_settings(args))
    sim = {"draws": args.sim_draws, "seed": args.seed}
    result = fc.simulate(forecast, **sim)
    what_ifs, rows = [], []
    for level in LEVELS:
        try:
            w = fc.what_if(forecast, reaches=(level, BY), **sim)
        except fc.CaseError as e:  # no posterior trajectory reaches this level: say so, go on
            print(f"skipped {level:,}: {e}")
            continue
        what_ifs.append(w)
        t = w.table()
        t.insert(0, "reaches", level)
        t.insert(1, "by", BY)
        t.insert(2, "condition_probability", w.condition_probability)
        rows.append(t)
    diag = write_outputs(forecast, out, scenarios=result, what_ifs=what_ifs, force=True)
    sweep = pd.concat(rows, ignore_index=True)
    sweep.to_csv(out / "sweep.csv", index=False, float_format="%.6g")

    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        groups = list(sweep.groupby("scenario", sort=False))
        for i, (name, g) in enumerate(groups):
            x = g.reaches + (i - (len(groups) - 1) / 2) * 120  # side by side, so the bars do not hide each other
            ax.errorbar(x, g.what_if, yerr=[g.what_if - g.what_if_lower, g.what_if_upper - g.what_if],
                        fmt="o-", ms=4, lw=1.2, elinewidth=0.8, capsize=2,
                        label=f"{name} (by {g.resolves_by.iloc[0]})")
        ax.set_xlabel(f"what-if: the deployment reaches this many troops by {BY}")
        ax.set_ylabel("P(event by its resolution date)")
        ax.set_ylim(0, 1)
        ax.set_title("Scenario probabilities across a sweep of what-ifs (bars: 90% intervals)")
        ax.grid(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.savefig(out / "sweep.png", dpi=120)
        plt.close(fig)
    print(f"wrote {out}/ (converged: {diag['converged']}): report.html, sweep.csv, sweep.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
