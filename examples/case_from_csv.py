"""A case assembled in Python from a CSV of reports and a few declared sources.

The CSV (`examples/data/nk_reports.csv`) holds the built-in case's reports: every row is a cited
public statement (the `note` column), exported with the case-file column names
(date, source, claim, value, low, high, target, cites, note). Replace it with your own.

    python examples/case_from_csv.py --out from_csv
"""

import datetime as dt
from pathlib import Path

import forecasting as fc
from forecasting.outputs import write_outputs

from _settings import fit_settings, parser, run

HERE = Path(__file__).resolve().parent
DENIER = (0.0001, 0.5)      # claimed/true of a party that denies: its "up to 1" says almost nothing
BELLIGERENT = (0.9, 1.8)    # a party with an incentive to stress the threat


def sources():
    """Who speaks, with NATO Admiralty grades and, for parties with an incentive, a declared bias range."""
    allied = ["South Korea NIS", "South Korea military (MND/JCS)", "US White House (NSC)", "US Pentagon",
              "US State Department", "UK Ministry of Defence"]
    out = [fc.Source(n, grade="B2") for n in allied]
    out += [fc.Source(n, grade="C3", bias=BELLIGERENT)
            for n in ("Ukraine HUR", "Ukraine President Zelensky", "Ukraine military (MoD/General Staff)")]
    out += [fc.Source(n, grade="E5", bias=DENIER) for n in ("Russia (Kremlin/MFA)", "North Korea (MFA/UN mission)")]
    out += [fc.Source(n, grade="C3") for n in ("Ukrinform", "Kyiv Independent")]  # they only relay others
    return out


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--csv", default=str(HERE / "data" / "nk_reports.csv"), help="reports CSV")
    args = p.parse_args(argv)
    reports = fc.read_reports_csv(args.csv)      # a CaseError names the row and the column of a bad cell
    case = fc.Case("North Korean troops in Russia (from CSV)", "troops", dt.date(2024, 10, 1), dt.date(2025, 3, 31),
                   reports=tuple(reports), sources=tuple(sources()), trajectory="saturating")
    print(case.reports_frame().groupby("claim").size().to_string())
    forecast = fc.fit(case, **fit_settings(args))
    out = Path(args.out or "case_from_csv")
    diag = write_outputs(forecast, out, force=True)
    last = forecast.trajectory().iloc[-1]
    print(f"{case.horizon}: median {last.q50:,.0f} {case.unit} (90% interval {last.q05:,.0f} to {last.q95:,.0f}); "
          f"converged: {diag['converged']}; wrote {out}/report.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
