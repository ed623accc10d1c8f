"""A subset that trails the primary: in_zone(t) = share * total(t - lag)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecasting import Case, CaseError, Report, Source, fit
from forecasting import quantities as qty
from forecasting.model import design
from forecasting.quantities import Quantity

START = dt.date(2024, 10, 1)
DAYS = 91
SHARE, LAG = 0.4, 20


def truth(day):
    """Total sent: 2,000 growing to 12,000 over the quarter (x1.49 in 20 days)."""
    return 2000 * 6 ** (np.asarray(day) / (DAYS - 1))


def lagged_case(lag=LAG, seed=2):
    rng = np.random.default_rng(seed)
    reports = []
    for source, days in (("A", [10, 30, 50, 70, 85]), ("B", [15, 40, 60, 80])):
        reports += [Report(START + dt.timedelta(days=d), source, "approximately",
                           round(float(truth(d)) * np.exp(0.05 * rng.standard_normal()))) for d in days]
    # the same sources count the subset, so their biases (pinned by the total) do not absorb the share
    reports += [Report(START + dt.timedelta(days=d), source, "approximately",
                       round(SHARE * float(truth(d - LAG)) * np.exp(0.05 * rng.standard_normal())), quantity="in_zone")
                for source, days in (("A", [25, 45, 65, 88]), ("B", [35, 55, 75])) for d in days]
    return Case("lagged", "troops", START, START + dt.timedelta(days=DAYS - 1), tuple(reports),
                sources=tuple(Source(n, grade="A1") for n in "AB"), trajectory="random_walk",
                quantities=(Quantity("in_zone", "subset", share=(0.1, 0.9), lag=lag),))


def test_lag_rules():
    with pytest.raises(CaseError, match="0 or more days"):
        Quantity("in_zone", "subset", share=(0.1, 0.9), lag=-3)
    with pytest.raises(CaseError, match="whole number of days"):
        Quantity("in_zone", "subset", share=(0.1, 0.9), lag=2.5)
    with pytest.raises(CaseError, match="only `stage` and `subset` quantities take a lag"):
        Quantity("killed", "independent", lag=3)
    assert Quantity("in_zone", "subset", share=(0.1, 0.9)).lag is None  # default: no lag


def test_lagged_report_must_read_inside_the_period():
    case = lagged_case()
    early = Report(START + dt.timedelta(days=5), "A", "approximately", 900, quantity="in_zone")
    with pytest.raises(CaseError) as e:
        case.add_report(early)
    msg = str(e.value)
    assert "reports[" in msg and ".date" in msg and "reads the primary on 2024-09-16, outside the case period" in msg


def test_design_reads_a_lagged_subset_lag_days_earlier():
    case = lagged_case()
    d = design(case)
    reports = [case.reports[i] for i in d.report_index]
    for r, day, share in zip(reports, d.about_day, d.report_share):
        if r.quantity == "in_zone":
            assert day == (r.date - START).days - LAG and share == 0
        else:
            assert day == (r.date - START).days and share == -1


@pytest.fixture(scope="module")
def fits():
    return {lag: fit(lagged_case(lag), draws=400, tune=400, chains=2, seed=5) for lag in (LAG, 0)}


def test_lagged_trajectory_is_the_primary_shifted(fits):
    f = fits[LAG]
    x = f.idata.posterior["log_level"].values.reshape(-1, DAYS)
    log_share = f.idata.posterior["log_share"].values.reshape(-1, 1)
    dates, zone = qty.level_draws(f, "in_zone")
    assert len(dates) == DAYS - LAG and dates[0] == pd.Timestamp(START + dt.timedelta(days=LAG))
    np.testing.assert_allclose(zone, np.exp(x[:, : DAYS - LAG] + log_share), rtol=1e-12)


def test_share_is_recovered_only_with_the_right_lag(fits):
    """With the lag the 90% interval holds the true share; read on the same day instead,
    the subset looks 6^(20/90) = 1.49 times smaller and the interval misses it: the lag matters."""
    for lag, covers in ((LAG, True), (0, False)):
        row = qty.shares(fits[lag]).iloc[0]
        assert bool(row["share_q05"] <= SHARE <= row["share_q95"]) is covers, (lag, row.to_dict())
    assert qty.shares(fits[0]).iloc[0]["share_median"] < SHARE / 1.3


def test_backtest_reads_a_later_subset_claim_through_share_and_lag(fits):
    """A backtest scores a later subset claim against share * total(t - lag), not against the total."""
    from forecasting.backtest import claim_reading

    f = fits[LAG]
    post = f.idata.posterior
    r = next(r for r in f.case.reports if r.quantity == "in_zone")
    mu, _ = claim_reading(f, r, np.random.default_rng(0))
    day = (r.date - START).days - LAG
    want = (post["log_level"].values.reshape(-1, DAYS)[:, day] + post["log_share"].values.reshape(-1)
            + post["bias"].sel(source=r.source).values.reshape(-1))
    np.testing.assert_allclose(mu, want, rtol=1e-12)
    # and the subset's reading is unbiased: its median error is within a 5% noise's sampling spread
    assert abs(np.median(mu) - np.log(r.value)) < 0.15
