"""What ``StanceClassifier.analyze`` returns: per-sentence labels, spans and a sourcing profile."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .labels import LABELS


@dataclass
class SentenceAnalysis:
    start: int
    end: int
    text: str
    label: str | None
    probabilities: dict[str, float]
    # for attributed statements, when the model has a span head: {"start", "end", "text"},
    # offsets into the document (not the sentence)
    source: dict | None = None
    cue: dict | None = None


_PRONOUNS = {"he", "she", "they", "it", "we", "i", "his", "her", "their"}


@dataclass
class Analysis:
    """Per-sentence labels of one document, with counts, shares and a sourcing profile."""

    sentences: list[SentenceAnalysis]
    counts: dict[str, int] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    # each distinct source with the number of statements attributed to it, most frequent first
    sources: list[dict] = field(default_factory=list)

    def __post_init__(self):
        labelled = [s.label for s in self.sentences if s.label is not None]
        self.counts = {name: labelled.count(name) for name in LABELS}
        self.shares = {name: (n / len(labelled) if labelled else 0.0) for name, n in self.counts.items()}
        self.sources = self._sourcing_profile()

    def _sourcing_profile(self) -> list[dict]:
        # A pronoun source ("he said") counts for the last named source before it (LABELS.md rule 11).
        # An attributed sentence with no source inside it (a quote continuation, rule 12) counts for
        # the source of the attributed sentence right before it; one that follows anything else
        # has no known source and is not counted.
        tally: dict[str, dict] = {}
        last_named = previous = None  # previous: the source of the sentence just before, if attributed
        for s in self.sentences:
            if s.label != "attributed_statement":
                previous = None
                continue
            if s.source:
                name = s.source["text"].strip()
                if name.lower() in _PRONOUNS and last_named:
                    name = last_named
                elif name.lower() not in _PRONOUNS:
                    last_named = name
            elif previous:
                name = previous
            else:
                continue
            previous = name
            entry = tally.setdefault(name.lower(), {"source": name, "statements": 0})
            entry["statements"] += 1
        return sorted(tally.values(), key=lambda e: (-e["statements"], e["source"].lower()))

    def to_dict(self) -> dict:
        return {"sentences": [asdict(s) for s in self.sentences], "counts": self.counts,
                "shares": self.shares, "sources": self.sources}

    def to_table(self, width: int = 80) -> str:
        short = {"neutral_report": "NEUTRAL", "attributed_statement": "ATTRIB", "unattributed_claim": "CLAIM"}
        lines = []
        for s in self.sentences:
            conf = max(s.probabilities.values()) if s.label else float("nan")
            text = s.text if len(s.text) <= width else s.text[: width - 3] + "..."
            lines.append(f"{short.get(s.label, '-'):8s} {conf:4.2f}  {text}")
            if s.source or s.cue:
                lines.append(f"{'':15s}source: {s.source['text'] if s.source else '-'}   cue: {s.cue['text'] if s.cue else '-'}")
        lines.append("")
        lines.append("  ".join(f"{name}: {self.counts[name]} ({self.shares[name]:.0%})" for name in LABELS))
        if self.sources:
            lines.append("sources: " + "; ".join(f"{e['source']} ({e['statements']})" for e in self.sources))
        return "\n".join(lines)
