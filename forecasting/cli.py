"""Command line: ``forecasting run [CASE] --out DIR``.

Exit status: 0 success; 2 bad input (message names file, entry and field);
3 sampling did not converge (outputs still written, flagged) unless
``--allow-unconverged``; 130 interrupted (no partial outputs).
"""

from __future__ import annotations

import argparse
import os
import sys

from .fit import SAMPLERS

EXIT_OK, EXIT_BAD_INPUT, EXIT_UNCONVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130


def _parser():
    p = argparse.ArgumentParser(prog="forecasting", description="Bayesian forecasting from conflicting claims.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="fit a case and write tables, plots and the posterior")
    run.add_argument("case", nargs="?", help="case file (TOML); default: the built-in North Korean troops case")
    run.add_argument("--out", default="forecast", help="output directory (default: ./forecast)")
    run.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives identical CSV outputs")
    run.add_argument("--draws", type=int, default=1000, help="posterior draws per chain (default 1000)")
    run.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (default 1000)")
    run.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    run.add_argument("--target-accept", type=float, default=0.99, help="NUTS target acceptance (default 0.99)")
    run.add_argument("--as-of", help="use only reports made on or before this date (YYYY-MM-DD)")
    run.add_argument("--trajectory", choices=["saturating", "random_walk"], help="override the case's trajectory prior")
    run.add_argument("--sampler", choices=list(SAMPLERS), default=None,
                     help="NUTS implementation (default: nutpie with the compiled density if installed, else pymc)")
    run.add_argument("--compare", action="store_true",
                     help="also fit the other trajectory prior and write model_comparison.csv (PSIS-LOO)")
    run.add_argument("--what-if", action="append", default=[], metavar="SPEC",
                     help="a what-if beside the baseline, written to whatif.csv (repeatable): reaches=10000@2024-12-01, "
                          "stays_below=3000@2024-12-01, event=treaty_in_force[@DATE], prevent=combat")
    run.add_argument("--allow-unconverged", action="store_true", help="exit 0 even if diagnostics fail")
    run.add_argument("--force", action="store_true", help="replace an output directory holding another case")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    rebuild = sub.add_parser("tables", help="rebuild every table and plot from a saved posterior.nc")
    rebuild.add_argument("posterior", help="posterior.nc written by `forecasting run`")
    rebuild.add_argument("--out", required=True, help="output directory")
    rebuild.add_argument("--force", action="store_true")
    rebuild.add_argument("--quiet", action="store_true")
    return p


def default_sampler() -> str:
    try:
        import nutpie  # noqa: F401

        return "nutpie"
    except ImportError:
        return "pymc"


def _say(args, msg):
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def _run(args) -> int:
    if args.quiet:
        import logging

        logging.getLogger("pymc").setLevel(logging.ERROR)
    from .casefile import builtin_case, load_case
    from .compare import compare
    from .fit import fit
    from .outputs import write_outputs

    case = load_case(args.case, as_of=args.as_of) if args.case else builtin_case(as_of=args.as_of)
    if args.trajectory:
        case = case.with_(trajectory=args.trajectory)
    sampler = args.sampler or default_sampler()
    settings = dict(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, sampler=sampler,
                    target_accept=args.target_accept, progress=not args.quiet and sys.stderr.isatty())
    _say(args, f"fitting '{case.name}': {len(case.active_reports)} reports from {len(case.active_sources)} sources, "
               f"{case.start} to {case.horizon}, {case.trajectory} trajectory, sampler {sampler}")
    forecast = fit(case, **settings)
    comparison = None
    if args.compare:
        other = "random_walk" if case.trajectory == "saturating" else "saturating"
        _say(args, f"fitting the {other} trajectory for comparison")
        other_fit = fit(case.with_(trajectory=other), **settings)
        comparison = compare({case.trajectory: forecast, other: other_fit})
    whatifs = _what_ifs(args, forecast)
    result, sens = _scenarios(args, forecast)
    diag = write_outputs(forecast, args.out, comparison=comparison, scenarios=result, sensitivity=sens,
                         what_ifs=whatifs, force=args.force)
    return _finish(args, diag)


WHAT_IF_KEYS = ("reaches", "stays_below", "event", "prevent")


def parse_what_if(spec: str) -> dict:
    """``reaches=10000@2024-12-01`` -> ``{"reaches": (10000.0, "2024-12-01")}`` (no eval)."""
    from .errors import CaseError
    from .evidence import suggest

    key, sep, rest = spec.partition("=")
    key = key.strip()
    if not sep or key not in WHAT_IF_KEYS:
        raise CaseError(f"cannot read {spec!r}{suggest(key, WHAT_IF_KEYS)}", entry="--what-if",
                        expected="reaches=VALUE[@DATE], stays_below=VALUE[@DATE], event=NAME[@DATE] or prevent=NAME")
    value, _, date = rest.strip().partition("@")
    if key in ("reaches", "stays_below"):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            raise CaseError(f"got {value!r}", entry="--what-if", field=key, expected="a number") from None
        return {key: (number, date) if date else number}
    out = {key: value}
    if date:
        if key == "prevent":
            raise CaseError("prevent takes no date", entry="--what-if", field=key, expected="prevent=NAME")
        out["event_on"] = date
    return out


def _what_ifs(args, forecast):
    from .errors import CaseError
    from .scenarios import what_if

    if not args.what_if:
        return None
    if not forecast.case.scenarios:
        raise CaseError("the case has no scenarios to compare", entry="--what-if", expected="[[scenarios]] in the case")
    seed = int(forecast.idata.attrs.get("seed", 0))
    results = []
    for spec in args.what_if:
        try:
            results.append(what_if(forecast, seed=seed, **parse_what_if(spec)))
        except CaseError as e:
            raise e.located(entry=f"--what-if {spec}") from None
    return results


def _scenarios(args, forecast):
    """Scenario probabilities and their sensitivity, seeded like the fit (None without scenarios)."""
    from .scenarios import sensitivity, simulate

    if not forecast.case.scenarios:
        return None, None
    seed = int(forecast.idata.attrs.get("seed", 0))
    _say(args, f"simulating {len(forecast.case.scenarios)} scenarios")
    return simulate(forecast, seed=seed), sensitivity(forecast, seed=seed)


def _finish(args, diag) -> int:
    _say(args, f"wrote {args.out}/: trajectory.csv sources.csv diagnostics.json posterior.nc trajectory.png")
    if diag["converged"]:
        _say(args, f"converged: R-hat max {diag['rhat_max']:.3f}, bulk ESS min {diag['ess_bulk_min']:.0f}, "
                   f"{diag['divergences']} divergences")
        return EXIT_OK
    print("warning: sampling did not converge; outputs are flagged as unreliable:", file=sys.stderr)
    for p in diag["problems"]:
        print(f"  - {p}", file=sys.stderr)
    if getattr(args, "allow_unconverged", False):
        return EXIT_OK
    print("(exit status 3; pass --allow-unconverged to accept)", file=sys.stderr)
    return EXIT_UNCONVERGED


def _tables(args) -> int:
    from .forecast import Forecast
    from .outputs import write_outputs

    forecast = Forecast.load(args.posterior)
    result, sens = _scenarios(args, forecast)
    diag = write_outputs(forecast, args.out, scenarios=result, sensitivity=sens, force=args.force)
    args.allow_unconverged = True
    return _finish(args, diag)


def main(argv=None) -> int:
    """Entry point of the ``forecasting`` command."""
    from .errors import CaseError

    args = _parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            return _run(args) if args.command == "run" else _tables(args)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: no outputs were changed", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
