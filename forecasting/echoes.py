"""Echoed claims: which reports repeat a figure another report already put on the record.

A figure repeated by three outlets and a foreign official is one piece of
evidence, not four. The rule, applied to a case's reports in date order:

1. **Duplicates.** Reports by the same source on the same day with the same
   figure (same claim kind, numbers and target) are one claim: every one after
   the first is an echo of the first.
2. **Citations.** A report with ``cites = "X"`` repeats source X's figure. Its
   origin is X's most recent report made on or before the echo's date with the
   same numbers (value, or low and high, and target, for the same quantity),
   whatever the claim kind: an outlet writing "around 11,000" for an official's
   "at least 11,000" adds no evidence by rephrasing it. If the case holds no
   such report, the earliest report citing X with those numbers stands in for
   the missing origin (it is kept as evidence, under its own source), and later
   ones with the same numbers are its echoes.
3. An echo of an echo is an echo of the first report in the chain.

Echoes stay in the case, in :meth:`Case.reports_frame` (column ``echo_of``) and
in the fan chart, but carry zero weight in the likelihood: the model's design
keeps only the reports :func:`independent` returns. Every origin is made on or
before its echoes, so the rule gives the same answer for a report whatever the
case's ``as_of``.
"""

from __future__ import annotations

from collections.abc import Sequence


def figure(report) -> tuple:
    """What a report claims, without who or when: quantity, claim kind, numbers and target."""
    return (report.quantity, report.claim, report.value, report.low, report.high, report.target)


def numbers(report) -> tuple:
    """The numbers a report states, without how it phrases them: quantity, value, low, high, target."""
    return (report.quantity, report.value, report.low, report.high, report.target)


def echo_origins(reports: Sequence) -> list[int | None]:
    """For each report, the position of the report whose claim it repeats (``None`` if it is evidence).

    Parameters
    ----------
    reports : sequence of Report
        In case order.

    Returns
    -------
    list of int or None
        ``out[j]`` is the position in ``reports`` of the original claim report
        ``j`` echoes; the original is never itself an echo.

    Examples
    --------
    >>> from forecasting import Report
    >>> a = Report("2024-10-18", "South Korea NIS", "approximately", 1500)
    >>> b = Report("2024-10-19", "Reuters", "approximately", 1500, cites="South Korea NIS")
    >>> echo_origins([a, b])
    [None, 0]
    """
    # Within a day, a source's own claims go before the reports citing it, so an
    # origin reported the same day as its echo is found whatever the file order.
    order = sorted(range(len(reports)), key=lambda j: (reports[j].date, reports[j].cites is not None, j))
    origin: list[int | None] = [None] * len(reports)
    first_of_claim: dict[tuple, int] = {}  # (source, date, figure) -> first report
    by_source_numbers: dict[tuple, int] = {}  # (source, numbers) -> most recent report so far
    stand_in: dict[tuple, int] = {}  # (cited source, numbers) -> earliest echo of a missing origin

    def root(i: int) -> int:
        return i if origin[i] is None else origin[i]

    for j in order:
        r = reports[j]
        fig = figure(r)
        dup = first_of_claim.get((r.source, r.date, fig))
        if dup is not None:
            origin[j] = root(dup)
        elif r.cites is not None:
            key = (r.cites, numbers(r))
            cited = by_source_numbers.get(key)
            if cited is not None:
                origin[j] = root(cited)
            elif key in stand_in:
                origin[j] = root(stand_in[key])
            else:
                stand_in[key] = j
        first_of_claim.setdefault((r.source, r.date, fig), j)
        by_source_numbers[(r.source, numbers(r))] = j
    return origin


def independent(reports: Sequence) -> list[int]:
    """Positions of the reports that are evidence in their own right (not echoes), in case order."""
    return [j for j, o in enumerate(echo_origins(reports)) if o is None]
