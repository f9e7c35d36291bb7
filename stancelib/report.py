"""A self-contained HTML report of one analysed article.

Attributed statements, their sources and cues, and unattributed claims are
highlighted in the text; the sourcing profile and the share of each label sit
at the top. One file, inline CSS, no scripts, no external resources, so it
opens anywhere (and offline).
"""

from __future__ import annotations

import html

from .labels import LABELS

_CSS = """
body { font: 16px/1.6 Georgia, serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font: 600 1.3em system-ui, sans-serif; margin-bottom: .2em; }
.meta, .legend, table { font: 14px system-ui, sans-serif; }
.bar { display: flex; height: 14px; border-radius: 3px; overflow: hidden; margin: .6em 0 1em; }
.bar div { height: 100%; }
.s { padding: 1px 2px; border-radius: 3px; }
.neutral_report { background: #eef0f2; }
.attributed_statement { background: #d6e9ff; }
.unattributed_claim { background: #ffe1c2; }
.uncertain { outline: 1px dashed #999; }
.src { font-weight: 700; border-bottom: 2px solid #1f5fae; }
.cue { font-style: italic; border-bottom: 2px dotted #1f5fae; }
.key { display: inline-block; width: 1em; height: 1em; vertical-align: -2px; border-radius: 2px; margin: 0 .3em 0 1em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
td, th { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
p.par { margin: 0 0 1em; }
"""
_COLOURS = {"neutral_report": "#c5cbd1", "attributed_statement": "#5b9bd5", "unattributed_claim": "#f0a35e"}
_NAMES = {"neutral_report": "neutral report", "attributed_statement": "attributed statement",
          "unattributed_claim": "unattributed claim"}


def _sentence_html(text: str, s) -> str:
    """One sentence with its source and cue marked (their offsets index the document)."""
    marks = sorted(
        [(span["start"] - s.start, span["end"] - s.start, cls) for span, cls in ((s.source, "src"), (s.cue, "cue")) if span],
    )
    out, pos = [], 0
    body = text[s.start:s.end]
    for start, end, cls in marks:
        if start < pos:  # overlapping spans: keep the first
            continue
        out.append(html.escape(body[pos:start]))
        out.append(f'<span class="{cls}">{html.escape(body[start:end])}</span>')
        pos = end
    out.append(html.escape(body[pos:]))
    probs = ", ".join(f"{_NAMES[k]} {v:.0%}" for k, v in s.probabilities.items())
    return f'<span class="s {s.label}" title="{html.escape(probs)}">{"".join(out)}</span>'


def render_html(text: str, analysis, title: str = "stancelib analysis", model: str = "") -> str:
    """The report for ``analysis = clf.analyze(text)``."""
    bar = "".join(f'<div style="width:{analysis.shares[n] * 100:.1f}%;background:{_COLOURS[n]}"></div>' for n in LABELS)
    legend = "".join(
        f'<span class="key" style="background:{_COLOURS[n]}"></span>{_NAMES[n]}: {analysis.counts[n]} '
        f"({analysis.shares[n]:.0%})" for n in LABELS)
    rows = "".join(f"<tr><td>{html.escape(e['source'])}</td><td>{e['statements']}</td></tr>" for e in analysis.sources)
    profile = (f"<table><tr><th>source</th><th>statements</th></tr>{rows}</table>" if rows
               else '<p class="meta">No attributed statement names a source.</p>')
    # paragraphs: sentences separated by a blank line in the input start a new paragraph
    paragraphs, current, last_end = [], [], 0
    for s in analysis.sentences:
        if current and text.count("\n", last_end, s.start) >= 1:
            paragraphs.append(current)
            current = []
        current.append(_sentence_html(text, s))
        last_end = s.end
    if current:
        paragraphs.append(current)
    body = "\n".join(f'<p class="par">{" ".join(p)}</p>' for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{len(analysis.sentences)} sentences{' &middot; model ' + html.escape(model) if model else ''}.
Hover a sentence for its probabilities. <span class="src">Source</span> and <span class="cue">cue</span> of attributed statements are marked.</p>
<div class="bar">{bar}</div>
<div class="legend">{legend}</div>
<h2 class="meta">Sourcing profile</h2>
{profile}
<article>
{body}
</article>
</body></html>
"""
