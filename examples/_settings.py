"""Command-line settings shared by the example scripts (copy this along with a script)."""

import argparse


def parser(description: str) -> argparse.ArgumentParser:
    """Sampler settings and an output folder; the defaults are those of `forecasting run`."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=None, help="output folder (default: one named after the script)")
    p.add_argument("--draws", type=int, default=1000, help="posterior draws per chain")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    p.add_argument("--chains", type=int, default=4, help="chains")
    p.add_argument("--sim-draws", type=int, default=4000,
                   help="scenario parameter sets (Monte Carlo se of a probability <= 0.5/sqrt(this))")
    p.add_argument("--seed", type=int, default=1)
    return p


def fit_settings(args) -> dict:
    return {"draws": args.draws, "tune": args.tune, "chains": args.chains, "seed": args.seed}


def run(main) -> int:
    """Run an example's ``main``; bad input is one clear line (file, entry, field), not a traceback."""
    import sys

    import forecasting as fc

    try:
        return main()
    except fc.CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
