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
EXIT_FAILED_FITS = 4  # `backtest`: some vintages failed (the others are written)


def _target_accept(text: str):
    """``--target-accept``: "auto" or a number (range checked with the other settings)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected 'auto' or a number like 0.99") from None


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
    run.add_argument("--target-accept", type=_target_accept, default="auto",
                     help="NUTS target acceptance, or 'auto' (default): 0.9 (0.95 with fewer than 10 reports per source), "
                          "then 0.99 and 0.995 while anything diverged")
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
    run.add_argument("--track-record", metavar="REGISTRY",
                     help="use sources' track records (a registry written by `forecasting track-record`) as priors")
    record = sub.add_parser("track-record", help="write each source's fitted bias and noise as a registry (JSON)")
    record.add_argument("posterior", help="posterior.nc written by `forecasting run`")
    record.add_argument("--out", required=True, help="registry file to write (JSON)")
    record.add_argument("--merge", action="store_true",
                        help="keep the other sources of an existing registry at --out (the newer record wins)")
    record.add_argument("--quiet", action="store_true")
    _backtest_parser(sub)
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


def _compile_density():
    """Import the compiled density and run the daily filter once: a first run compiles both into numba's cache."""
    import numpy as np

    from . import kalman, logdensity  # noqa: F401

    one = np.ones((1, 1))
    kalman.sample_daily(*kalman.filter_daily("random_walk", {"wander": one[0], "drift": one[0]}, 0.0, 1.0, 2,
                                             np.array([1]), one, one), np.random.default_rng(0))


def _say(args, msg):
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def _run(args) -> int:
    if args.quiet:
        import logging

        logging.getLogger("pymc").setLevel(logging.ERROR)
    from .background import Job

    # a first run on a machine compiles the density (seconds): in a child, while this process reads the case
    compiling = Job(_compile_density) if args.sampler in (None, "nutpie") else None
    from .casefile import builtin_case, load_case
    from .compare import compare
    from .fit import fit
    from .outputs import write_outputs

    case = load_case(args.case, as_of=args.as_of) if args.case else builtin_case(as_of=args.as_of)
    _check_what_if_names(args, case)
    if args.trajectory:
        case = case.with_(trajectory=args.trajectory)
    if args.track_record:
        case = _with_track_records(args, case)
    sampler = args.sampler or default_sampler()
    settings = dict(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, sampler=sampler,
                    target_accept=args.target_accept, progress=not args.quiet and sys.stderr.isatty())
    _say(args, f"fitting '{case.name}': {len(case.active_reports)} reports from {len(case.active_sources)} sources, "
               f"{case.start} to {case.horizon}, {case.trajectory} trajectory, sampler {sampler}")
    if compiling is not None:
        compiling.result()  # the cache is filled: the import below reads it
    forecast = fit(case, **settings)
    comparison = None
    if args.compare:
        other = "random_walk" if case.trajectory == "saturating" else "saturating"
        _say(args, f"fitting the {other} trajectory for comparison")
        other_fit = fit(case.with_(trajectory=other), related=False, **settings)  # LOO reads the primary only
        comparison = compare({case.trajectory: forecast, other: other_fit})
    with Job(forecast.diagnostics) as checking:  # on the second core, while the scenarios are simulated
        whatifs = _what_ifs(args, forecast)
        result, sens = _scenarios(args, forecast)
        diag = write_outputs(forecast, args.out, comparison=comparison, scenarios=result, sensitivity=sens,
                             what_ifs=whatifs, force=args.force, diagnostics=checking.result(), parallel=True)
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


def _check_what_if_names(args, case):
    """Unknown scenario names in --what-if are found before the fit, not after it."""
    from .errors import CaseError
    from .evidence import suggest

    names = [s.name for s in case.scenarios]
    for spec in args.what_if:
        parsed = parse_what_if(spec)
        for key in ("event", "prevent"):
            if key in parsed and parsed[key] not in names:
                raise CaseError(f"no scenario {parsed[key]!r}{suggest(parsed[key], names)}", entry=f"--what-if {spec}",
                                field=key, expected="one of " + (", ".join(names) or "the case's scenarios (it has none)"))


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
    _say(args, f"wrote {args.out}/: report.html (open it in a browser), trajectory.csv sources.csv diagnostics.json "
               "posterior.nc trajectory.png")
    for note in diag.get("evidence_notes", []):
        # weak evidence is printed even with --quiet: it changes how far the numbers can be trusted
        print(f"note: {note}", file=sys.stderr)
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


def _with_track_records(args, case):
    """The case with a registry's records as its sources' priors; unmatched records are reported, not fatal."""
    import warnings

    from .track_records import apply_track_records, load_track_records

    records = load_track_records(args.track_record)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        case = apply_track_records(case, records)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    _say(args, f"track records from {args.track_record}: {len(records) - len(caught)} of {len(records)} used")
    return case


def _track_record(args) -> int:
    from pathlib import Path

    from .forecast import Forecast
    from .track_records import load_track_records, merge_track_records, save_track_records, track_records

    records = track_records(Forecast.load(args.posterior))
    if args.merge and Path(args.out).exists():
        records = merge_track_records(load_track_records(args.out), records)
    save_track_records(records, args.out)
    _say(args, f"wrote {args.out}: track records of {len(records)} sources")
    return EXIT_OK


def _tables(args) -> int:
    from .forecast import Forecast
    from .outputs import write_outputs

    forecast = Forecast.load(args.posterior)
    result, sens = _scenarios(args, forecast)
    diag = write_outputs(forecast, args.out, scenarios=result, sensitivity=sens, force=args.force)
    args.allow_unconverged = True
    return _finish(args, diag)


def _backtest_parser(sub):
    bt = sub.add_parser("backtest", help="refit the case at each vintage and score its forecasts (docs/evaluation.md)")
    bt.add_argument("case", nargs="?", help="case file (TOML); default: the built-in North Korean troops case")
    bt.add_argument("--every", default="7D", help="time between vintages (default 7D)")
    bt.add_argument("--start", help="first vintage (default: the first report's date)")
    bt.add_argument("--end", help="last vintage (default: the day before the last report)")
    bt.add_argument("--out", default="backtest", help="output directory (default: ./backtest); a rerun skips "
                                                      "vintages already finished there")
    bt.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786): run the fits on that cluster")
    bt.add_argument("--workers", type=int, help="local worker processes (default: one per CPU; 1: in this process)")
    bt.add_argument("--draws", type=int, default=500, help="posterior draws per chain (default 500)")
    bt.add_argument("--tune", type=int, default=500, help="tuning steps per chain (default 500)")
    bt.add_argument("--chains", type=int, default=2, help="chains (default 2)")
    bt.add_argument("--seed", type=int, default=0, help="random seed")
    bt.add_argument("--influence-date", metavar="DATE",
                    help="also write influence.csv and influence.png: what moved the fit on all reports, "
                         "for the level on DATE and each scenario probability")
    bt.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _backtest(args) -> int:
    """Backtest a case; the logic lives in forecasting.backtest (this only wires arguments and files)."""
    from .backtest import Settings, backtest
    from .casefile import builtin_case, load_case
    from .errors import CaseError

    for name, least in (("draws", 1), ("tune", 0), ("chains", 1), ("seed", 0), ("workers", 1)):
        value = getattr(args, name)
        if value is not None and value < least:
            raise CaseError(f"got {value}", entry=f"--{name}", value=value, expected=f"a whole number >= {least}")
    case = load_case(args.case) if args.case else builtin_case()
    if args.influence_date:  # checked now, so a bad date does not cost the whole backtest
        from .evidence import _date

        try:
            when = _date(args.influence_date, "date")
        except CaseError as e:
            raise CaseError(e.problem, entry="--influence-date", expected=e.expected) from None
        if not case.start <= when <= case.horizon:
            raise CaseError(f"{when} is outside the case period {case.start} to {case.horizon}",
                            entry="--influence-date", expected="a date within the case period")
    settings = Settings(draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    try:
        bt = backtest(case, every=args.every, start=args.start, end=args.end, settings=settings, out=args.out,
                      scheduler=args.scheduler, workers=args.workers, progress=not args.quiet)
    except CaseError as e:
        raise e.located(entry="backtest") from None
    from .fit import fit

    # the hindsight fit (every report) is what the vintages are drawn against
    full = fit(case.with_(as_of=None), draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed)
    written = write_backtest_outputs(bt, args.out, hindsight=full.trajectory())
    if args.influence_date:
        written += _write_influence(full, args.influence_date, args.out, args.seed)
    _say(args, f"wrote {args.out}/: " + " ".join(p.name for p in written))
    if bt.failures:
        for v, err in bt.failures.items():
            print(f"error: vintage {v} failed: {err.splitlines()[0]}", file=sys.stderr)
        print(f"{len(bt.failures)} of {len(bt.failures) + len(bt.vintages)} vintages failed; rerun with the same "
              "--out to retry them (finished vintages are kept)", file=sys.stderr)
        return EXIT_FAILED_FITS
    return EXIT_OK


def _write_influence(forecast, date, out, seed):
    from pathlib import Path

    import matplotlib.pyplot as plt

    from .errors import CaseError
    from .influence import influence
    from .plotting_evaluation import influence_plot

    try:
        table = influence(forecast, date=date, seed=seed)
    except CaseError as e:
        raise e.located(entry="--influence-date") from None
    out = Path(out)
    table.to_csv(out / "influence.csv", index=False)
    ax = influence_plot(table, table["target"].iloc[0])
    ax.figure.savefig(out / "influence.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    return [out / "influence.csv", out / "influence.png"]


def write_backtest_outputs(bt, out, hindsight=None):
    """Tables and plots of a backtest: backtest*.csv, reliability.png, pit.png, vintages.png."""
    import matplotlib.pyplot as plt

    from .plotting_evaluation import pit_histogram, reliability_diagram, vintage_plot

    written = bt.write(out)
    from pathlib import Path

    out = Path(out)
    plots = [("pit.png", lambda: pit_histogram(bt).figure),
             ("vintages.png", lambda: vintage_plot(bt, hindsight=hindsight)[0].figure)]
    if len(bt.scenarios):
        plots.insert(0, ("reliability.png", lambda: reliability_diagram(bt).figure))
    for name, draw in plots:
        if len(bt.scores) == 0:
            break
        fig = draw()
        fig.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(out / name)
    return written


def main(argv=None) -> int:
    """Entry point of the ``forecasting`` command."""
    from .errors import CaseError

    args = _parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        _check_args(args)
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            return {"run": _run, "tables": _tables, "track-record": _track_record,
                    "backtest": _backtest}[args.command](args)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: no outputs were changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        # an unreadable or unwritable path (permissions, disk full) is the user's to fix, not a crash
        print(f"error: {e.strerror or e}{f': {e.filename}' if e.filename else ''}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _check_args(args) -> None:
    """Reject impossible settings before any fitting (argparse has already checked the types)."""
    from .errors import CaseError
    from .evidence import _date, check_settings

    # table-driven over every subcommand that has the option (run, backtest, ...)
    names = ("draws", "tune", "chains", "seed", "workers", "target_accept")
    check_settings(entry=lambda name: "--" + name.replace("_", "-"), **{n: getattr(args, n, None) for n in names})
    for name in ("as_of", "start", "end"):
        value = getattr(args, name, None)
        if value is not None:
            try:
                _date(value, name)
            except CaseError as e:
                flag = "--" + name.replace("_", "-")
                raise CaseError(e.problem, entry=flag, value=value, expected=e.expected) from None
    for spec in getattr(args, "what_if", None) or ():  # read now, so a typo does not cost a whole fit
        parse_what_if(spec)
    out = getattr(args, "out", None)
    if args.command in ("run", "tables") and out and os.path.exists(out) and not os.path.isdir(out):
        raise CaseError("exists and is not a directory", file=out, entry="--out",
                        expected="a new or forecasting output directory")


if __name__ == "__main__":
    sys.exit(main())
