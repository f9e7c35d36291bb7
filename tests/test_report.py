import os
import shutil
import subprocess

import pytest

from stancelib.modeling import Analysis, SentenceAnalysis
from stancelib.report import render_html

TEXT = 'Storm <hits> coast\n\nThe ministry said 40 homes were damaged. Critics say "nothing" was ready.\n'


def fake_analysis():
    p = lambda lab: {n: (0.9 if n == lab else 0.05) for n in ("neutral_report", "attributed_statement", "unattributed_claim")}  # noqa: E731
    s1 = SentenceAnalysis(0, 18, TEXT[0:18], "neutral_report", p("neutral_report"))
    start = TEXT.index("The ministry")
    s2 = SentenceAnalysis(start, start + 40, TEXT[start:start + 40], "attributed_statement", p("attributed_statement"),
                          {"start": start, "end": start + 12, "text": "The ministry"},
                          {"start": start + 13, "end": start + 17, "text": "said"})
    start3 = TEXT.index("Critics")
    s3 = SentenceAnalysis(start3, len(TEXT) - 1, TEXT[start3:-1], "unattributed_claim", p("unattributed_claim"))
    return Analysis([s1, s2, s3])


def test_html_marks_labels_sources_and_cues():
    page = render_html(TEXT, fake_analysis(), title="t <1>")
    assert page.startswith("<!DOCTYPE html>") and "<title>t &lt;1&gt;</title>" in page
    assert "Storm &lt;hits&gt; coast" in page  # escaped
    assert '<span class="src">The ministry</span> <span class="cue">said</span>' in page
    assert 'class="s unattributed_claim"' in page and "&quot;nothing&quot;" in page
    assert "<td>The ministry</td><td>1</td>" in page  # sourcing profile
    assert page.count('<p class="par">') == 2  # headline, then the body paragraph


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(TEXT, fake_analysis()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=900,700",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.path.getsize(shot) > 5000
