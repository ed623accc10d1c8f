"""The hand-compiled density (``forecasting.logdensity``) is the PyMC model's density.

The PyMC model in :mod:`forecasting.model` is the definition; the compiled
density is what the default sampler uses. At random points of the unconstrained
space, both must give the same log density and gradient to 1e-8 relative
(floating-point error only), for every trajectory prior and claim kind.
"""

import datetime as dt

import numpy as np
import pytest

from forecasting import Case, Priors, Report, Source
from forecasting import logdensity as ld
from forecasting.model import build_model, design

START = dt.date(2024, 10, 1)


def day(n):
    return START + dt.timedelta(days=n)


REPORTS = [
    Report(day(2), "A", "approximately", 2000),
    Report(day(5), "B", "at_least", 3000),
    Report(day(5), "A", "up_to", 6000),
    Report(day(9), "C", "between", low=2500, high=4500),
    Report(day(9), "B", "approximately", 3900),
    Report(day(14), "C", "approximately", 5200),
    Report(day(20), "A", "at_least", 4000),
]
PROJECTION = Report(day(14), "B", "projection", 9000, target=day(40))


# enough reports from B and C that their biases are sampled centred (model.CENTRE_MIN_REPORTS)
MANY = [Report(day(1 + 2 * i), src, "approximately" if i % 3 else "at_least", 2000 + 150 * i + 90 * (src == "C"))
        for i in range(12) for src in ("B", "C")]


def _case(kind, projections, declared, many=False):
    reports = REPORTS + ([PROJECTION] if projections else []) + (MANY if many else [])
    sources = (Source("A", grade="B2", bias=(0.8, 1.6) if declared else None), Source("B", grade="C3"), Source("C"))
    return Case("density", "troops", START, day(45), tuple(reports), sources=sources, trajectory=kind,
                priors=Priors(level=(300, 30000)))


CASES = [(k, p, b) for k in ("random_walk", "saturating") for p in (False, True) for b in (False, True)]
CASES += [("random_walk", False, False, True), ("saturating", True, True, True)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "-".join(map(str, c)))
def pair(request):
    d = design(_case(*request.param))
    if len(request.param) > 3:
        assert d.source_centred.any()
    model = build_model(d)
    return d, model, model.compile_logp(), model.compile_dlogp()


def _point(d, model, theta):
    sl = ld.param_slices(d)
    point = {}
    for v in model.value_vars:
        x = theta[sl[v.name]]
        point[v.name] = x if v.ndim else x[0]
    return point


def test_layout_matches_pymc_value_variables(pair):
    d, model, _, _ = pair
    sl = ld.param_slices(d)
    assert set(sl) == {v.name for v in model.value_vars}
    assert sum(s.stop - s.start for s in sl.values()) == ld.n_params(d) == sum(
        int(np.prod(model.initial_point()[v.name].shape)) or 1 for v in model.value_vars)


def test_logp_and_gradient_agree_with_pymc(pair):
    d, model, logp, dlogp = pair
    data = ld.pack(d)
    rng = np.random.default_rng(7)
    # dlogp's vector follows model.value_vars order; map it onto our layout
    sl = ld.param_slices(d)
    order = np.concatenate([np.arange(sl[v.name].start, sl[v.name].stop) for v in model.value_vars])
    for _ in range(20):
        theta = ld.initial_point(d, data, rng) + rng.normal(0, 0.5, ld.n_params(d))
        lp, grad = ld.logp_grad(theta, data["reports"], data["index"], data["sources"], data["gaps"],
                                data["settings"], data["n_days"])
        point = _point(d, model, theta)
        ref_lp = float(logp(point))
        ref_grad = np.asarray(dlogp(point))
        assert lp == pytest.approx(ref_lp, rel=1e-8, abs=1e-8)
        np.testing.assert_allclose(grad[order], ref_grad, rtol=1e-7, atol=1e-8)


def test_gradient_is_the_derivative_of_logp(pair):
    """Central finite differences, independent of PyMC's autodiff."""
    d, *_ = pair
    data = ld.pack(d)
    theta = ld.initial_point(d, data, np.random.default_rng(3))
    args = (data["reports"], data["index"], data["sources"], data["gaps"], data["settings"], data["n_days"])
    _, grad = ld.logp_grad(theta, *args)
    h = 1e-5
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        fd = (ld.logp_grad(theta + e, *args)[0] - ld.logp_grad(theta - e, *args)[0]) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-6), i


def test_expanded_variables_match_pymc_deterministics(pair):
    d, model, _, _ = pair
    data = ld.pack(d)
    theta = ld.initial_point(d, data, np.random.default_rng(5))
    ours = ld.expand(theta, d, data)
    point = _point(d, model, theta)
    names = ["bias", "noise", "reading_mean", "reading_var"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    ref = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(point)
    for name, value in zip(names, ref):
        np.testing.assert_allclose(ours[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


def test_expanded_variables_without_the_latent_readings(pair):
    """Large designs do not store the bounds' latent readings; everything else is unchanged."""
    d, *_ = pair
    data = ld.pack(d)
    theta = ld.initial_point(d, data, np.random.default_rng(6))
    full, lean = ld.expand(theta, d, data), ld.expand(theta, d, data, latents=False)
    assert "claim_latent_raw" in full and len(full["claim_latent_raw"]) == len(d.censored) > 0
    assert set(full) - set(lean) == {"claim_latent_raw"}
    for name, value in lean.items():
        np.testing.assert_array_equal(value, full[name], err_msg=name)
    assert ld.stores_latents(d) and len(d.censored) <= ld.MAX_STORED_LATENTS
