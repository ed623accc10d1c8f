"""Print a benchmark results CSV as a Markdown table (for the README and docs/performance.md)."""

import sys

import pandas as pd


def fmt(v, note=""):
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return v
    if pd.isna(v):
        return note or ""
    return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"


def main(path="benchmarks/results.csv"):
    t = pd.read_csv(path, keep_default_na=True)
    print(f"Measured {t['date'].iloc[0]} on {t['machine'].iloc[0]}" + (" (quick settings)" if t["quick"].any() else ""))
    print()
    print("| figure | this library | reference | ratio | target |")
    print("|---|---|---|---|---|")
    for r in t.itertuples():
        ref = fmt(r.reference, r.reference_note if isinstance(r.reference_note, str) else "")
        ratio = fmt(r.ratio)
        if isinstance(r.ratio_note, str) and r.ratio_note and ratio:
            ratio = f"> {ratio}"
        ratio = f"{ratio}x" if ratio else ""
        target = r.target if isinstance(r.target, str) else ""
        print(f"| {r.figure} | {fmt(r.this_library)} | {ref} | {ratio} | {target} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
