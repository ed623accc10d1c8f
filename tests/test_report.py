"""The forecast report: contents, self-containment, and a real headless browser."""

import base64
import html
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import forecasting as fc
from forecasting import report as rp
from forecasting.outputs import write_outputs

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results():
    """A short (so unconverged) fit of the built-in case, and every result the report can show."""
    case = fc.builtin_case(as_of="2024-11-20")
    forecast = fc.fit(case, draws=300, tune=300, chains=2, seed=3)
    other = fc.fit(case.with_(trajectory="random_walk"), draws=300, tune=300, chains=2, seed=3)
    return {
        "forecast": forecast,
        "scenarios": fc.simulate(forecast, draws=800, seed=3),
        "sensitivity": fc.sensitivity(forecast, draws=400, seed=3),
        "what_ifs": [fc.what_if(forecast, reaches=(12000, "2024-12-15"), draws=800, seed=3),
                     fc.what_if(forecast, prevent="combat", draws=800, seed=3)],
        "comparison": fc.compare({"saturating": forecast, "random_walk": other}),
    }


@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    write_outputs(results["forecast"], out, scenarios=results["scenarios"], sensitivity=results["sensitivity"],
                  what_ifs=results["what_ifs"], comparison=results["comparison"])
    return out


class _Page(HTMLParser):
    """Collects tags, ids, links and image sources of an HTML page."""

    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.hrefs, self.imgs = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a":
            self.hrefs.append(a.get("href"))
        if tag == "img":
            self.imgs.append(a)


def _parse(text):
    p = _Page()
    p.feed(text)
    return p


def test_run_writes_report_beside_the_tables(written):
    for name in ("report.html", "report.md", "whatif.png", "trajectory.png", "scenarios.png"):
        assert (written / name).is_file(), name
    # written in the temporary directory and swapped in: nothing partial is left beside it
    assert not [p for p in written.parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def test_report_is_self_contained(written):
    text = (written / "report.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert len(page.imgs) >= 7
    for img in page.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG
        assert img.get("alt")
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, href
        else:
            assert re.fullmatch(r"https?://[^\s\"<>]+", href), href  # no relative links that break when shared
    assert set(rp.SECTIONS) <= page.ids


def test_every_probability_has_question_date_and_interval(results, written):
    text = html.unescape((written / "report.html").read_text(encoding="utf-8"))
    md = (written / "report.md").read_text(encoding="utf-8")
    for r in results["scenarios"].table().itertuples():
        cell = rp._prob(r.probability, r.lower, r.upper, r.se)
        row = next(line for line in md.splitlines() if f"[{r.scenario}]" in line and cell in line)
        assert r.question in row and str(r.resolves_by) in row
        assert cell in text
    for w in results["what_ifs"]:
        assert f"If {w.condition}." in text
        for r in w.table().itertuples():
            base = rp._prob(r.baseline, r.baseline_lower, r.baseline_upper, r.se_baseline)
            what = rp._prob(r.what_if, r.what_if_lower, r.what_if_upper, r.se_what_if)
            assert any(base in line and what in line and str(r.resolves_by) in line and r.question in line
                       for line in md.splitlines()), r.scenario
    # every percentage the report computes sits beside a 90% interval, except the sensitivity table's
    # (parameters at the ends of their ranges; the section states their Monte Carlo bound); the
    # evidence and the sources' rationales are quotes
    body = md.split("## Sensitivity")[0] + md.split("## Model comparison")[1].split("## Evidence")[0]
    body = body.split("## Sources")[0] + body.split("## Scenario probabilities")[1]
    for line in body.splitlines():
        # a probability is a number and a % sign; "50% and 90% intervals" names intervals, not probabilities
        for m in re.finditer(r"\d+(\.\d)?%(?! (interval|and|bands|Monte))", line):
            assert "90% interval" in line or "90% Monte Carlo interval" in line, line


def test_unconverged_fit_has_a_banner(results, written):
    diag = results["forecast"].diagnostics()
    assert not diag["converged"]  # 300 draws of 2 chains: too short, by design of this test
    text = (written / "report.html").read_text(encoding="utf-8")
    assert 'class="banner"' in text and "NOT CONVERGED" in text
    assert "NOT CONVERGED" in (written / "report.md").read_text(encoding="utf-8").split("## Questions")[0]
    for problem in diag["problems"]:
        assert html.escape(problem) in text


def test_converged_fit_has_no_banner(results):
    diag = dict(results["forecast"].diagnostics(), converged=True, problems=[])
    page, text = rp.render_report(results["forecast"], diagnostics=diag)
    assert 'class="banner"' not in page and "NOT CONVERGED" not in text
    assert "Sampling converged" in page


def test_evidence_lists_every_report_with_its_citation(results, written):
    case = results["forecast"].case
    text = (written / "report.html").read_text(encoding="utf-8")
    page = _parse(text)
    for r in case.reports:
        assert html.escape(r.note.split("http")[0].strip()[:60]) in text
        for url in re.findall(r"https?://[^\s;,)]+", r.note):
            assert url.rstrip(".") in page.hrefs
    md = (written / "report.md").read_text(encoding="utf-8")
    evidence = md.split("## Evidence")[1].split("## ")[0]
    assert sum(line.startswith("| ") for line in evidence.splitlines()) == len(case.reports) + 1
    assert evidence.count("no (after the forecast date)") == sum(r.date > case.as_of for r in case.reports)
    from forecasting.echoes import echo_origins

    echoes = [i for i, o in enumerate(echo_origins(case.reports)) if o is not None and case.reports[i].date <= case.as_of]
    assert evidence.count("(no weight)") == len(echoes)


def test_markdown_tables_and_images_are_well_formed(written):
    md = (written / "report.md").read_text(encoding="utf-8")
    for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (written / name).read_bytes()[:8] == PNG, name
    table = []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in table}
            assert len(widths) == 1, table[0]
            table = []


def test_report_builder_never_samples(results, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the report sampled")

    import sys

    # `forecasting.fit` names the function; the modules are in sys.modules
    monkeypatch.setattr(sys.modules["forecasting.scenarios"], "_run", boom)
    monkeypatch.setattr(sys.modules["forecasting.fit"], "sample_posterior", boom)
    page, text = rp.render_report(results["forecast"], scenarios=results["scenarios"],
                                  sensitivity=results["sensitivity"], what_ifs=results["what_ifs"])
    assert "Scenario probabilities" in page and "What-ifs" in text


def _browser(tmp_path):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and chromium-driver (see .ci/run)")
        pytest.skip("needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--window-size=1280,2000"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(written, tmp_path):
    page = tmp_path / "shared" / "report.html"
    page.parent.mkdir()
    shutil.copy(written / "report.html", page)  # alone, as a reader who was sent the file would have it
    driver = _browser(tmp_path)
    try:
        driver.set_page_load_timeout(60)
        driver.get(page.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        assert driver.title.startswith("Forecast report: North Korean troops in Russia")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt]);")
        assert len(images) >= 7
        for complete, width, height, alt in images:
            assert complete and width > 0 and height > 0, alt
        broken = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
            ".filter(h => h.startsWith('#') ? !document.getElementById(h.slice(1)) : !/^https?:\\/\\//.test(h));")
        assert broken == []
        banner = driver.execute_script(
            "const b = document.querySelector('.banner'); const r = b.getBoundingClientRect();"
            "return [b.innerText, r.top, r.height];")
        assert "NOT CONVERGED" in banner[0] and banner[1] < 1000 and banner[2] > 0  # visible without scrolling
        height = driver.execute_script("return document.body.scrollHeight")
        assert height > 3000  # every section laid out, not an empty page
    finally:
        driver.quit()


def test_case_without_scenarios_gets_a_shorter_report_with_working_links(tmp_path):
    import numpy as np

    from forecasting.simulation import simulate_case

    case, _ = simulate_case(rng=np.random.default_rng(5), days=40, n_reports=12, name="SIMULATED: no scenarios")
    forecast = fc.fit(case, draws=200, tune=200, chains=2, seed=5)
    html_path, md_path = rp.write_report(forecast, tmp_path)
    page = _parse(html_path.read_text(encoding="utf-8"))
    assert {"scenarios", "what-ifs", "sensitivity", "comparison"}.isdisjoint(page.ids)
    assert {"questions", "trajectory", "sources", "diagnostics", "evidence", "assumptions"} <= page.ids
    assert all(h[1:] in page.ids for h in page.hrefs if h.startswith("#"))
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["sources.png", "trajectory.png"]
    assert "Scenario probabilities" not in md_path.read_text(encoding="utf-8")
