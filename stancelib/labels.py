"""The label scheme (``../shared/LABELS.md``): three labels in a fixed order.

The order is part of every saved model (``id2label``) and of every probability
array stancelib returns, so it is defined once, here, and never inferred from
data (a label order that silently changes is a classic source of wrong results).
"""

LABELS = ("neutral_report", "attributed_statement", "unattributed_claim")
LABEL2ID = {name: i for i, name in enumerate(LABELS)}
ID2LABEL = dict(enumerate(LABELS))

DESCRIPTIONS = {
    "neutral_report": "the writer reports an event, number or fact in their own voice",
    "attributed_statement": "the main content is carried by an identifiable, on-the-record source",
    "unattributed_claim": "judgement, motive, prediction or contested fact with no or a vague source",
}
