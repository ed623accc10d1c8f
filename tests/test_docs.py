"""The documentation: the site builds with warnings as errors, and the references match the code."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _code_spans(text: str) -> set:
    """Inline code of a Markdown text (fenced blocks removed first: their backticks would pair wrongly)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return set(re.findall(r"`([^`\n]+)`", text))


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    # rendered from the docstrings, each function once (not its whole module)
    for path in ("forecasting.fit.fit", "forecasting.scenarios.simulate", "forecasting.scenarios.what_if",
                 "forecasting.forecast.Forecast", "forecasting.plotting.fan_chart", "forecasting.report.write_report"):
        assert api.count(f'id="{path}"') == 1, path
    assert 'id="forecasting.fit.sample_posterior"' not in api


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.M))
    assert pages <= listed, pages - listed


def test_case_file_reference_names_every_key_and_claim_kind():
    from forecasting import CLAIM_KINDS, Priors, casefile, scenarios

    text = (DOCS / "case-file.md").read_text(encoding="utf-8")
    spans = _code_spans(text)
    tables = {"[case]": casefile.CASE_KEYS, "[[sources]]": casefile.SOURCE_KEYS, "[[reports]]": casefile.REPORT_KEYS,
              "[priors]": Priors.keys(), "[[scenarios]]": scenarios.SCENARIO_KEYS}
    for name in ("QUANTITY_KEYS", "OUTCOME_KEYS"):
        if hasattr(casefile, name):
            tables[f"[[{name.split('_')[0].lower()}s]]".replace("quantitys", "quantities")] = getattr(casefile, name)
    for top in casefile.TOP_KEYS:
        assert f"[{top}]" in text or f"[[{top}]]" in text, top
    for table, keys in tables.items():
        section = text.split(f"## `{table}`")[1].split("\n## ")[0]
        for key in keys:
            assert key in _code_spans(section), f"{table} {key}"
    for key in scenarios.DRIVER_KEYS:
        assert key in spans, key
    for kind in CLAIM_KINDS:
        assert f"| `{kind}` |" in text, kind


def test_cli_reference_names_every_option():
    from forecasting.cli import _parser

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in _parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for command, p in sub.choices.items():
        assert f"forecasting {command}" in text, command
        for action in p._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in text, f"{command} {opt}"


def test_readme_commands_are_the_getting_started_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(python3 -m venv[^\n]+)\n```", readme)
    assert len(commands) == 2
    for c in commands:
        assert c in index


def test_docs_link_only_to_pages_that_exist():
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().is_file(), f"{page.name} -> {target}"


def test_mkdocs_is_installed_by_the_test_extra():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for pkg in ("mkdocs", "mkdocstrings", "nbclient", "ipykernel", "selenium"):
        assert re.search(rf'"{pkg}[\[>=<]', text), pkg
