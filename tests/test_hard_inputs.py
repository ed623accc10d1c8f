"""Hard but valid input: it fits, the quantiles are finite and ordered, weak evidence gives a
wide posterior, and the output says so (``diagnostics()["evidence_notes"]``, printed by the CLI).

The cases are test fixtures (sources "A", "B", ...), not data. Fits use the compiled nutpie
density with 1,000 draws x 2 chains: enough for the Monte Carlo tolerances below, about a
second each.

Bounds on the posterior spread come from the priors (docs/model.md):

* a source's bias, claimed / true, has the pooled prior 90% range 0.67-1.5, a log-sd of
  ``SIGMA_BIAS = ln(1.5 / 0.67) / (2 * 1.645) = 0.245``. Claims from a single source
  cannot tell its bias from the level, so the posterior sd of the log level on a report's
  day is at least ``SIGMA_BIAS`` (more, with the source's noise and the level's movement).
* Monte Carlo error of a posterior sd estimated from an effective sample size ``n`` is
  ``sd / sqrt(2 n)``; a bound is checked with 4 such standard errors of slack, so a sound
  model fails it with probability below 1e-4.
"""

import datetime as dt
import json
import math

import arviz as az
import numpy as np
import pytest

import forecasting as fc
from forecasting import Case, Report
from forecasting.cli import main
from forecasting.forecast import WIDE_INTERVAL

SIGMA_BIAS = math.log(1.5 / 0.67) / (2 * 1.6448536269514722)
FIT = dict(draws=1000, tune=500, chains=2, seed=3)
rng = np.random.default_rng(11)


def _case(reports, horizon="2024-12-31", trajectory="saturating"):
    return Case("hard", "troops", "2024-10-01", horizon, reports, trajectory=trajectory)


CASES = {
    "single report": _case([Report("2024-10-23", "A", "approximately", 2000)]),
    "one source": _case([Report(f"2024-10-{d:02d}", "A", "approximately", v)
                         for d, v in ((5, 1500), (12, 2500), (23, 3000), (28, 4000))]),
    "only lower bounds": _case([Report("2024-10-10", "A", "at_least", 1500),
                                Report("2024-10-23", "B", "at_least", 3000)]),
    "only bounds": _case([Report("2024-10-10", "A", "at_least", 1500), Report("2024-10-23", "B", "at_least", 3000),
                          Report("2024-10-23", "C", "up_to", 20000)]),
    "conflict": _case([Report("2024-10-22", "A", "approximately", 2000),
                       Report("2024-10-23", "B", "approximately", 100000),
                       Report("2024-11-01", "A", "approximately", 2500),
                       Report("2024-11-02", "B", "approximately", 90000)]),
    # 300 claims on one day from five sources, scattered 20% around 5,000
    "crowded day": _case([Report("2024-10-23", f"S{i % 5}", "approximately",
                                 float(round(5000 * math.exp(0.2 * rng.standard_normal())))) for i in range(300)]),
    "horizon years away": _case([Report("2024-10-23", "A", "approximately", 2000),
                                 Report("2024-11-20", "B", "approximately", 3000)], horizon="2028-10-01"),
    "horizon years away, random walk": _case([Report("2024-10-23", "A", "approximately", 2000),
                                              Report("2024-11-20", "B", "approximately", 3000)],
                                             horizon="2028-10-01", trajectory="random_walk"),
}
DAY = dt.date(2024, 10, 23)  # every case has a report on this day
pytestmark = pytest.mark.slow  # eight MCMC fits


class _Fit:
    """A fit with its trajectory table and diagnostics computed once (long horizons make them slow)."""

    def __init__(self, case):
        self.forecast = fc.fit(case, **FIT)
        self.traj = self.forecast.trajectory()
        self.diag = self.forecast.diagnostics()


@pytest.fixture(scope="module")
def fits():
    return {name: _Fit(case) for name, case in CASES.items()}


def _log_level(forecast, day):
    i = forecast.design.dates.get_loc(np.datetime64(day))
    return forecast.idata.posterior["log_level"].isel(date=i)


def _sd_and_se(fit, day):
    """Posterior sd of the log level on ``day`` and its Monte Carlo standard error."""
    x = _log_level(fit.forecast, day)
    sd = float(x.std())
    ess = float(az.ess(x.values, method="sd"))
    return sd, sd / math.sqrt(2 * ess)


def _factor(fit, day):
    row = fit.traj.set_index("date").loc[day]
    return row.q95 / row.q05


def _notes(fit):
    return " | ".join(fit.diag["evidence_notes"])


@pytest.mark.parametrize("name", list(CASES))
def test_fits_with_finite_ordered_quantiles(fits, name):
    traj = fits[name].traj
    q = traj[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert np.isfinite(q).all() and (q > 0).all()
    assert (np.diff(q, axis=1) >= 0).all()
    assert len(traj) == CASES[name].days
    diag = fits[name].diag
    assert np.isfinite(diag["rhat_max"]) and diag["horizon_interval_factor"] >= 1
    json.dumps(diag, allow_nan=False)  # diagnostics.json stays valid JSON


@pytest.mark.parametrize("name", ["single report", "one source"])
def test_one_source_cannot_beat_the_bias_prior(fits, name):
    """A source's bias and the level are confounded: sd(log level) >= SIGMA_BIAS on every report day."""
    f = fits[name]
    for r in CASES[name].reports:
        sd, se = _sd_and_se(f, r.date)
        assert sd >= SIGMA_BIAS - 4 * se, (r.date, sd, se)
    expected = "only 1 report" if name == "single report" else "all 4 reports come from one source (A)"
    assert expected in _notes(f)


def test_single_report_is_wide_at_the_horizon(fits):
    """Ten weeks after its only claim the level has wandered: the interval is wider than on the claim's day,
    and wider than x10, so the wide-interval note is printed."""
    f = fits["single report"]
    assert _factor(f, dt.date(2024, 12, 31)) > _factor(f, DAY)
    assert f.diag["horizon_interval_factor"] > WIDE_INTERVAL
    assert "at the horizon (2024-12-31) the 90% interval is" in _notes(f)


def test_only_lower_bounds_leave_the_level_open(fits):
    """With only `at least` claims, the upper tail is the level prior's (x/ 30 around the median claim, a
    log-sd of ln(900) / 3.29 = 2.07): cut near the bound it is a half-Normal whose 90% range spans
    exp(2.07 * (1.96 - 0.06)) = x50. Checked: more than x10 (WIDE_INTERVAL) on the bound's day."""
    f = fits["only lower bounds"]
    assert _factor(f, DAY) > WIDE_INTERVAL
    assert "only bounds (at least / up to): no figure pins the level" in _notes(f)


def test_two_sided_bounds_spread_between_them(fits):
    """At least 3,000 and up to 20,000: no figure picks a point between, so the 90% interval reaches
    within x1.5 of both bounds (the level prior is nearly flat across the x6.7 gap)."""
    f = fits["only bounds"]
    row = f.traj.set_index("date").loc[DAY]
    assert row.q05 < 3000 * 1.5 and row.q95 > 20000 / 1.5
    assert "only bounds" in _notes(f)


def test_conflicting_claims_give_a_wide_interval_and_a_note(fits):
    """2,000 against 100,000 from two equally trusted sources: the data cannot say who is right, so the
    interval on the day must span more than x10 of the x50 gap."""
    f = fits["conflict"]
    assert _factor(f, DAY) > WIDE_INTERVAL
    assert "claims conflict by a factor of 50: about 100,000 (B, 2024-10-23) against about 2,000 (A, 2024-10-22)" \
        in _notes(f)


def test_crowded_day_fits_and_is_flagged(fits):
    """300 claims on one day pin that day (biases are pooled around 1, so 5,000 is inside the 50% interval),
    and the note warns that echoes would make this overconfident."""
    f = fits["crowded day"]
    row = f.traj.set_index("date").loc[DAY]
    assert row.q25 < 5000 < row.q75
    assert "300 reports on 2024-10-23" in _notes(f)


@pytest.mark.parametrize("name", ["horizon years away", "horizon years away, random walk"])
def test_far_horizon_is_wide_and_flagged(fits, name):
    f = fits[name]
    assert len(f.traj) == 1462
    assert _factor(f, dt.date(2028, 10, 1)) > max(WIDE_INTERVAL, _factor(f, dt.date(2024, 11, 20)))
    notes = _notes(f)
    assert "the latest claim is about 2024-11-20, 1411 days before the horizon 2028-10-01" in notes
    assert "at the horizon (2028-10-01)" in notes


def test_well_evidenced_case_has_no_notes():
    """The notes are not noise: the flagship case (30 reports, 11 sources; deniers have declared biases)
    raises none of the case-level ones."""
    from forecasting.evidence import evidence_notes

    assert evidence_notes(fc.builtin_case()) == []


def test_cli_prints_notes_and_diagnostics_carry_them(tmp_path, capsys):
    case = tmp_path / "one.toml"
    case.write_text('[case]\nname = "one"\nunit = "troops"\nstart = 2024-10-01\nhorizon = 2024-12-31\n\n'
                    '[[reports]]\ndate = 2024-10-23\nsource = "A"\nclaim = "approximately"\nvalue = 2000\n')
    out = tmp_path / "out"
    rc = main(["run", str(case), "--out", str(out), "--draws", "300", "--tune", "300", "--chains", "2", "--quiet",
               "--allow-unconverged"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "note: only 1 report: the level rests on a single claim" in err
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["evidence_notes"][0] == "only 1 report: the level rests on a single claim"
    assert diag["horizon_interval_factor"] > WIDE_INTERVAL
