"""Random corruptions of a case file give the documented CaseError, never another exception."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import CaseError, load_case
from forecasting.casefile import case_from_dict

from .test_evidence import GOOD

FIELDS = ["name", "unit", "start", "horizon", "as_of", "trajectory", "date", "source", "claim", "value", "low",
          "high", "target", "grade", "bias"]
VALUES = st.one_of(
    st.integers(-10**15, 10**15), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.booleans(), st.dates().map(str), st.lists(st.integers(-5, 5), max_size=3), st.none(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, len(GOOD) - 1), junk=st.text(alphabet=string.printable, max_size=8),
       cut=st.integers(0, 20))
def test_text_corruptions_raise_case_error(tmp_path, pos, junk, cut):
    p = tmp_path / "case.toml"
    p.write_text(GOOD[:pos] + junk + GOOD[pos + cut:])
    try:
        case = load_case(p)
    except CaseError as e:
        assert str(p) in str(e)
    else:
        assert case.reports and case.horizon > case.start


@settings(max_examples=300, deadline=None)
@given(table=st.sampled_from(["case", "report", "source"]), field=st.sampled_from(FIELDS), value=VALUES)
def test_field_corruptions_raise_case_error(table, field, value):
    data = {
        "case": {"name": "t", "unit": "troops", "start": "2024-10-01", "horizon": "2024-12-31"},
        "sources": [{"name": "A", "grade": "B2"}],
        "reports": [{"date": "2024-10-23", "source": "A", "claim": "approximately", "value": 2000}],
    }
    target = {"case": data["case"], "report": data["reports"][0], "source": data["sources"][0]}[table]
    if value is None:
        target.pop(field, None)
    else:
        target[field] = value
    try:
        case = case_from_dict(data, file="fuzz.toml")
    except CaseError as e:
        assert str(e).startswith("fuzz.toml")
    else:
        assert all(r.value is None or r.value > 0 for r in case.reports)
