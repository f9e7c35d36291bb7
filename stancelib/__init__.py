"""stancelib: who stands behind each sentence of a news text.

Public API::

    from stancelib import StanceClassifier
    clf = StanceClassifier.from_pretrained("runs/default/model")
    clf.predict("The ministry said 40 people were hurt.")  # "attributed_statement"
"""

__version__ = "0.2.0"

from .labels import LABELS  # noqa: E402
from .data import DataError, load_dataset, read_records  # noqa: E402
from .analysis import Analysis  # noqa: E402
from .modeling import ModelLoadError, StanceClassifier  # noqa: E402
from .sentences import split_sentences  # noqa: E402
from .training_args import TrainingArguments  # noqa: E402
from .baselines import RuleBaseline, TfidfBaseline  # noqa: E402


def train(args, **kwargs):
    """Fine-tune a classifier (see ``stancelib.trainer.train``); imported lazily, it pulls in torch."""
    from .trainer import train as _train

    return _train(args, **kwargs)


__all__ = [
    "LABELS", "StanceClassifier", "Analysis", "TrainingArguments", "train", "load_dataset",
    "read_records", "split_sentences", "RuleBaseline", "TfidfBaseline", "DataError", "ModelLoadError",
]
