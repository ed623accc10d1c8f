"""Parameter recovery and interval coverage on data simulated from the model itself."""

import numpy as np
import pytest

from forecasting import fit
from forecasting.simulation import simulate_case


@pytest.mark.slow
def test_recovers_trajectory_and_relative_biases():
    rng = np.random.default_rng(20241023)
    sources = {"A": (0.0, 0.1), "B": (0.4, 0.15), "C": (-0.3, 0.2)}
    case, truth = simulate_case(rng=rng, days=80, n_reports=60, sources=sources,
                                params={"wander": 0.02, "drift": 0.008})
    forecast = fit(case, draws=500, tune=700, chains=2, seed=3)
    post = forecast.idata.posterior
    x = post["log_level"].values.reshape(-1, len(truth["log_level"]))

    # 90% bands cover the true path on most days (days are correlated, so the
    # count is not binomial; 70% is far below what a calibrated fit gives)
    lo, hi = np.quantile(x, [0.05, 0.95], axis=0)
    covered = np.mean((truth["log_level"] >= lo) & (truth["log_level"] <= hi))
    assert covered >= 0.7, covered

    # biases are identified relative to each other: check differences to A
    names = list(post["bias"].source.values)
    b = post["bias"].values.reshape(-1, len(names))
    for s in ("B", "C"):
        diff = b[:, names.index(s)] - b[:, names.index("A")]
        true = sources[s][0] - sources["A"][0]
        q = np.quantile(diff, [0.005, 0.995])
        assert q[0] < true < q[1], (s, q, true)
    # the trajectory's error is tighter than the noisiest source
    assert np.sqrt(np.mean((x.mean(0) - truth["log_level"]) ** 2)) < 0.2
