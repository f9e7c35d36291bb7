"""Request and response bodies, for validation and for the generated OpenAPI page (``/docs``).

Lists of strings are strict: a number or ``null`` where a string belongs is a 422 naming
the item, never a silent conversion. Unknown fields are refused (a typo is not ignored).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(_Strict):
    texts: list[StrictStr] = Field(min_length=1, description="sentences, each labelled on its own (at most --max-items)",
                                   examples=[["The ministry said 40 people were hurt.", "Critics say the plan will fail."]])


class AnalyzeRequest(_Strict):
    documents: list[StrictStr] = Field(min_length=1, description="whole articles (at most --max-items, each at most "
                                       "--max-chars characters)", examples=[["Rain fell on Monday. Critics say it was "
                                                                             "the worst storm in years."]])


class ReportRequest(_Strict):
    document: StrictStr = Field(description="one article")


class Prediction(BaseModel):
    label: str | None = Field(description="the most probable label; null for a blank text")
    probabilities: dict[str, float] | None = Field(description="calibrated probability of each label")


class PredictResponse(BaseModel):
    predictions: list[Prediction]


class Span(BaseModel):
    start: int
    end: int
    text: str


class SentenceResult(BaseModel):
    start: int = Field(description="character offset of the sentence in its document")
    end: int
    text: str
    label: str | None
    probabilities: dict[str, float]
    source: Span | None = Field(description="who is speaking (attributed statements, with a span head)")
    cue: Span | None = Field(description="the reporting verb or phrase")


class SourceCount(BaseModel):
    source: str
    statements: int


class AnalysisResult(BaseModel):
    sentences: list[SentenceResult]
    counts: dict[str, int]
    shares: dict[str, float]
    sources: list[SourceCount] = Field(description="each distinct source with its number of statements")


class AnalyzeResponse(BaseModel):
    analyses: list[AnalysisResult]


class ModelInfo(BaseModel):
    labels: list[str] = Field(description="label names, in the order of every probability table")
    model_version: str = Field(description="run name + a fingerprint of the weights")
    backend: str
    max_length: int
    span_head: bool
    card: dict = Field(description="model-card metadata from stancelib.json")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    limit: str | None = Field(None, description="the limit exceeded, as a setting name (max_items: --max-items)")


class ErrorResponse(BaseModel):
    error: ErrorDetail
