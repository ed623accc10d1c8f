"""Track records: a source's bias and noise learnt in one case become its prior in the next."""

import datetime as dt
import json

import arviz as az
import numpy as np
import pytest

from forecasting import Case, CaseError, Report, Source, fit, load_case
from forecasting.model import design
from forecasting.track_records import (
    TrackRecord,
    TrackRecordWarning,
    apply_track_records,
    load_track_records,
    merge_track_records,
    save_track_records,
    track_records,
)

X_BIAS = 1.3  # the source under study inflates by 30%


def simulated_case(name, start, n_census, n_x, seed):
    """A case whose truth is known: the level grows from 2,000 to 12,000 over the quarter.

    "Census" is an accurate, declared-unbiased source when ``n_census`` > 0;
    "X" inflates by ``X_BIAS``; "Y" and "Z" are ordinary sources.
    """
    rng = np.random.default_rng(seed)
    start = dt.date.fromisoformat(start)
    days = 91

    def truth(day):
        return 2000 * 6 ** (day / (days - 1))

    def reports(source, n, bias, noise):
        out = []
        for day in np.linspace(5, days - 5, n).round().astype(int) if n else []:
            value = truth(day) * bias * np.exp(noise * rng.standard_normal())
            out.append(Report(start + dt.timedelta(days=int(day)), source, "approximately", round(value)))
        return out

    reps = (reports("Census", n_census, 1.0, 0.03) + reports("X", n_x, X_BIAS, 0.1)
            + reports("Y", 4, 1.1, 0.15) + reports("Z", 3, 0.9, 0.15))
    sources = [Source("X", grade="C3"), Source("Y", grade="B2"), Source("Z", grade="B2")]
    if n_census:
        sources.insert(0, Source("Census", grade="A1", bias=(0.95, 1.05)))
    return Case(name=name, unit="troops", start=start, horizon=start + dt.timedelta(days=days - 1),
                trajectory="random_walk", reports=tuple(reps), sources=tuple(sources))


def record(**changes):
    base = dict(source="X", bias=(1.1, 1.5), bias_median=1.28, noise=(0.05, 0.2), noise_median=0.1, reports=8,
                case="earlier case", as_of=dt.date(2024, 12, 1))
    return TrackRecord(**{**base, **changes})


# ---------------------------------------------------------------- registry files
def test_registry_round_trips_exactly(tmp_path):
    records = (record(bias=(1.0 / 3, 2.0 ** 0.5), bias_median=1.0000000000000002), record(source="Y", reports=1))
    p = tmp_path / "registry.json"
    save_track_records(records, p)
    again = load_track_records(p)
    assert sorted(again, key=lambda r: r.source) == sorted(records, key=lambda r: r.source)
    save_track_records(again, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == p.read_text()
    data = json.loads(p.read_text())
    assert data["format"] == "forecasting track records" and data["sources"][0]["as_of"] == "2024-12-01"


@pytest.mark.parametrize("change,entry_field,words", [
    (lambda row: row.pop("noise"), "sources[0].noise", "missing"),
    (lambda row: row.update(bias=[1.5, 1.1]), "sources[0].bias", "low 1.5 is not below high 1.1"),
    (lambda row: row.update(noise=[0.1, -1]), "sources[0].noise", "positive"),
    (lambda row: row.update(bias_median=9), "sources[0].bias_median", "inside the bias range"),
    (lambda row: row.update(reports=0), "sources[0].reports", "at least 1"),
    (lambda row: row.update(as_of="1 Dec"), "sources[0].as_of", "a date"),
    (lambda row: row.update(nosie=1), "sources[0].nosie", 'did you mean "noise"'),
])
def test_bad_registry_names_file_entry_and_field(tmp_path, change, entry_field, words):
    p = tmp_path / "registry.json"
    save_track_records([record()], p)
    data = json.loads(p.read_text())
    change(data["sources"][0])
    p.write_text(json.dumps(data))
    with pytest.raises(CaseError) as e:
        load_track_records(p)
    assert "registry.json" in str(e.value) and entry_field in str(e.value) and words in str(e.value)


def test_not_a_registry(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('{"sources": []}')
    with pytest.raises(CaseError, match="not a track-record registry"):
        load_track_records(p)
    p.write_text("{not json")
    with pytest.raises(CaseError, match="not JSON"):
        load_track_records(p)


def test_merge_keeps_the_newest():
    old, new = record(as_of=dt.date(2024, 11, 1)), record(as_of=dt.date(2025, 1, 1), reports=3)
    assert merge_track_records([old], [new]) == (new,)
    assert merge_track_records([new], [old]) == (new,)


# ---------------------------------------------------------------- applying
def test_record_becomes_the_sources_priors():
    case = simulated_case("next", "2025-01-01", 0, 2, seed=2)
    applied = apply_track_records(case, [record()])
    x = next(s for s in applied.sources if s.name == "X")
    assert x.bias == (1.1, 1.5) and x.noise == (0.05, 0.2) and x.grade == "C3"
    assert "earlier case" in x.rationale
    d = design(applied)
    i = d.source_names.index("X")
    assert d.source_declared_bias[i]
    # the noise prior's 5% and 95% quantiles are the recorded range
    median, log_sd = d.source_noise_prior[i]
    np.testing.assert_allclose(median * np.exp([-1.6448536269514722 * log_sd, 1.6448536269514722 * log_sd]),
                               [0.05, 0.2], rtol=1e-12)
    wide = apply_track_records(case, [record()], widen=2.0)
    lo, hi = next(s for s in wide.sources if s.name == "X").bias
    np.testing.assert_allclose(np.log([lo, hi]), np.log(np.sqrt(1.1 * 1.5)) + 2 * np.log([1.1, 1.5] / np.sqrt(1.65)))


def test_unknown_source_warns_with_a_suggestion():
    case = simulated_case("next", "2025-01-01", 0, 2, seed=2)
    with pytest.warns(TrackRecordWarning, match=r"'X2' .* matches no source .*did you mean \"X\""):
        applied = apply_track_records(case, [record(source="X2")])
    assert applied.sources == case.sources


def test_case_file_reads_noise_range(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[case]\nname = "t"\nunit = "u"\nstart = 2024-10-01\nhorizon = 2024-12-31\n\n'
                 '[[sources]]\nname = "A"\nnoise = [0.3, 0.1]\n\n'
                 '[[reports]]\ndate = 2024-10-02\nsource = "A"\nclaim = "approximately"\nvalue = 5\n')
    with pytest.raises(CaseError, match=r"c\.toml: sources\[0\]\.noise: low 0\.3 is not below high 0\.1"):
        load_case(p)
    p.write_text(p.read_text().replace("[0.3, 0.1]", "[0.1, 0.3]"))
    assert load_case(p).sources[0].noise == (0.1, 0.3)


# ---------------------------------------------------------------- learning and borrowing
SETTINGS = dict(draws=600, tune=400, chains=2)
Z = 4.0  # standard errors of a difference between two independent fits


def bias_width(forecast, source):
    """90% interval width of log(bias) and its Monte Carlo se (the two quantiles' se combined as independent)."""
    i = forecast.design.source_names.index(source)
    b = forecast.idata.posterior["bias"].isel(source=i)
    lo, hi = np.quantile(b.values, [0.05, 0.95])
    se = [float(az.mcse(b, method="quantile", prob=p).to_array().item()) for p in (0.05, 0.95)]
    return hi - lo, float(np.hypot(*se))


@pytest.fixture(scope="module")
def learnt():
    earlier = fit(simulated_case("earlier case", "2024-10-01", 8, 8, seed=1), seed=1, **SETTINGS)
    records = track_records(earlier)
    nxt = simulated_case("next case", "2025-01-01", 0, 2, seed=2)
    with pytest.warns(TrackRecordWarning, match="'Census'"):  # the next case has no census
        borrowed = apply_track_records(nxt, records)
    return {"records": records, "without": fit(nxt, seed=2, **SETTINGS), "with": fit(borrowed, seed=3, **SETTINGS)}


@pytest.mark.slow
def test_fitted_records_describe_the_fit(learnt):
    rec = {r.source: r for r in learnt["records"]}
    assert set(rec) == {"Census", "X", "Y", "Z"}
    assert rec["X"].reports == 8 and rec["X"].case == "earlier case" and rec["X"].as_of == dt.date(2024, 12, 26)  # day 86 of the grid
    assert rec["X"].bias[0] < rec["X"].bias_median < rec["X"].bias[1]


@pytest.mark.slow
def test_strong_track_record_pulls_the_source(learnt):
    (w_with, se_with), (w_without, se_without) = bias_width(learnt["with"], "X"), bias_width(learnt["without"], "X")
    assert w_with < w_without - Z * np.hypot(se_with, se_without), (w_with, w_without)
    # and towards what the earlier case learnt (X inflates by 30%)
    x = next(r for r in learnt["records"] if r.source == "X")
    median = float(np.exp(np.median(learnt["with"].idata.posterior["bias"].sel(source="X").values)))
    assert x.bias[0] < median < x.bias[1]


# ---------------------------------------------------------------- command line
def as_toml(case):
    head = (f'[case]\nname = "{case.name}"\nunit = "{case.unit}"\nstart = {case.start}\nhorizon = {case.horizon}\n'
            f'trajectory = "{case.trajectory}"\n')
    sources = "".join(f'\n[[sources]]\nname = "{s.name}"\ngrade = "{s.grade}"\n'
                      + (f"bias = [{s.bias[0]!r}, {s.bias[1]!r}]\n" if s.bias else "") for s in case.sources)
    reports = "".join(f'\n[[reports]]\ndate = {r.date}\nsource = "{r.source}"\nclaim = "{r.claim}"\nvalue = {r.value!r}\n'
                      for r in case.reports)
    return head + sources + reports


@pytest.mark.slow
def test_cli_writes_and_uses_a_registry(tmp_path, capsys):
    from forecasting import Forecast
    from forecasting.cli import main

    case = simulated_case("earlier case", "2024-10-01", 8, 8, seed=1)
    path = tmp_path / "case.toml"
    path.write_text(as_toml(case))
    quick = ["--draws", "300", "--tune", "300", "--chains", "2", "--allow-unconverged", "--quiet"]
    assert main(["run", str(path), "--out", str(tmp_path / "a"), *quick]) == 0
    registry = tmp_path / "registry.json"
    assert main(["track-record", str(tmp_path / "a" / "posterior.nc"), "--out", str(registry), "--quiet"]) == 0
    records = {r.source: r for r in load_track_records(registry)}
    assert set(records) == {"Census", "X", "Y", "Z"} and records["X"].reports == 8

    # a registry naming a source the next case lacks: a warning on stderr, not a failure
    nxt = simulated_case("next case", "2025-01-01", 0, 2, seed=2)
    path.write_text(as_toml(nxt))
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--track-record", str(registry), *quick]) == 0
    assert "warning: track record for 'Census'" in capsys.readouterr().err
    used = {s.name: s for s in Forecast.load(tmp_path / "b" / "posterior.nc").case.sources}
    assert used["X"].bias == records["X"].bias and used["X"].noise == records["X"].noise

    assert main(["run", str(path), "--out", str(tmp_path / "c"), "--track-record", str(tmp_path / "nope.json"),
                 *quick]) == 2
    assert "nope.json: no such file" in capsys.readouterr().err
