"""Two baselines with the classifier's interface (``fit``, ``predict``, ``predict_proba``).

- ``RuleBaseline``: attribution-cue, vague-source, hedge and loaded-word lexicons,
  applied in the order of LABELS.md rule 8.
- ``TfidfBaseline``: word and bigram TF-IDF with a class-balanced logistic regression.

They are what the transformer has to beat: every evaluation report shows both.
"""

from __future__ import annotations

import re

import numpy as np

from .labels import LABELS

_ATTRIBUTION_CUES = (
    r"said|says|say|told|tells|according to|announced|announces|stated|states|in a statement|confirmed|"
    r"denied|denies|warned|warns|insisted|insists|added|wrote|writes|posted|reported|reports|testified|"
    r"argued|claimed|admitted|acknowledged|noted|explained|pledged|vowed|threatened to|found|finds|showed|"
    r"shows|concluded|estimated|estimates|predicted|told reporters|spokesperson|spokesman|spokeswoman"
)
_VAGUE_SOURCES = (
    r"\b(?:some|many|several|few|other)\s+(?:analysts|experts|observers|critics|officials|residents|people|"
    r"economists|diplomats|observers|commentators|insiders|sources)\b|"
    r"\b(?:critics|observers|experts|analysts|insiders|sources|detractors|skeptics|sceptics)\s+(?:say|said|argue|"
    r"argued|warn|warned|note|noted|believe|fear|suggest|claim|contend)\b|"
    r"\bit is (?:believed|thought|feared|expected|widely|said|understood|rumou?red)\b|"
    r"\b(?:anonymity|not authori[sz]ed to|asked not to be named|declined to be named|people familiar with)\b|"
    r"\b(?:reportedly|allegedly|rumou?rs?)\b|\bseen by this newspaper\b|\bsources said\b"
)
_HEDGES = (
    r"\b(?:may|might|could|would|likely|unlikely|probably|perhaps|possibly|apparently|seemingly|seems?|"
    r"appears?|arguably|almost certainly|expected to|bound to|set to|in a bid to|aimed at|meant to|"
    r"clearly|obviously|undoubtedly|surely)\b"
)
_LOADED = (
    r"\b(?:reckless|shameful|disgraceful|so-called|dark forces|hostile forces|glorious|heroic|historic|"
    r"brazen|cynical|disastrous|catastrophic|scandalous|outrageous|shocking|absurd|blunder|fiasco|"
    r"triumph|betrayal|propaganda|regime|thugs|puppet|lackeys|infamous|notorious|misguided|desperate|"
    r"ruthless|heavy-handed|draconian|wise|visionary|bold|unprecedented|failed|failing)\b"
)


class RuleBaseline:
    """Lexicon rules in LABELS.md order: vague source, then named attribution, then judgement, else neutral."""

    name = "rule baseline"

    def __init__(self):
        self._cue = re.compile(rf"\b(?:{_ATTRIBUTION_CUES})\b", re.I)
        self._vague = re.compile(_VAGUE_SOURCES, re.I)
        self._claim = re.compile(rf"{_HEDGES}|{_LOADED}", re.I)

    def fit(self, texts=None, labels=None) -> "RuleBaseline":
        return self  # nothing to learn: same interface as the trainable systems

    def predict_one(self, text: str) -> str:
        if self._vague.search(text):
            return "unattributed_claim"
        if self._cue.search(text) or text.lstrip().startswith(('"', "\u201c")):
            return "attributed_statement"
        if self._claim.search(text) or text.rstrip().endswith("?"):
            return "unattributed_claim"
        return "neutral_report"

    def predict(self, texts) -> list[str]:
        return [self.predict_one(t) for t in texts]

    def predict_proba(self, texts) -> np.ndarray:
        return np.eye(len(LABELS))[[LABELS.index(p) for p in self.predict(texts)]]


class TfidfBaseline:
    """TF-IDF (words and bigrams) + logistic regression with balanced class weights."""

    name = "tfidf+lr"

    def __init__(self, C: float = 4.0, seed: int = 0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True),
            LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed),
        )

    def fit(self, texts, labels) -> "TfidfBaseline":
        self.pipeline.fit(list(texts), list(labels))
        return self

    def predict_proba(self, texts) -> np.ndarray:
        probs = self.pipeline.predict_proba(list(texts))
        # reorder the columns from sklearn's sorted classes to LABELS order
        cols = [list(self.pipeline.classes_).index(name) for name in LABELS]
        return probs[:, cols]

    def predict(self, texts) -> list[str]:
        return [LABELS[k] for k in self.predict_proba(texts).argmax(axis=1)]
