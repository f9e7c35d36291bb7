"""Training arguments: one dataclass, filled from a YAML config file.

Every key of a config file must be a field here; an unknown key is an error
(a typo such as ``learning_rte`` should not silently train with the default).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from .corpora.common import CORPUS_NAMES


@dataclass
class TrainingArguments:
    # what to train
    backbone: str = "minilm-l6"
    train_file: str = "data/corpus/train.jsonl"
    # more training-only files beside train_file, e.g. data/corpus/context_train.jsonl (articles
    # written to teach rules 11 and 12); the dev and test splits stay those of the bundled corpus
    extra_train_files: list[str] = field(default_factory=list)
    dev_file: str = "data/corpus/dev.jsonl"
    test_file: str | None = "data/corpus/test.jsonl"
    # minimal-pair groups (split field inside): the train groups join training, the dev groups the dev set
    pairs_file: str | None = "data/corpus/minimal_pairs.jsonl"
    output_dir: str = "runs/default"
    # optimisation
    max_length: int = 96
    # the document model: an article's sentences packed into windows of up to this many tokens
    # (each sentence opened by [CLS], labelled from it); at prediction time consecutive windows
    # overlap by window_overlap tokens (None: an eighth of the window), see stancelib/windows.py
    window_tokens: int = 256
    window_overlap: int | None = None
    # share of the sentences of multi-sentence documents that are also trained as windows of one,
    # so that predict() of a lone string stays served; never a rule-12 continuation (hard note
    # "rule 12"), whose label comes from its neighbours
    lone_sentence_rate: float = 0.0
    learning_rate: float = 5e-5
    num_train_epochs: float = 4.0
    per_device_train_batch_size: int = 16
    per_device_eval_batch_size: int = 64
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    # "balanced" (inverse class frequency), "none", or a list of three weights in LABELS order
    class_weights: str | list[float] = "balanced"
    # real news (news-mix recipe): add the trainable splits of the corpora in real_news_dir
    # ($STANCELIB_DATA, else ../shared/data); held-out splits are never read for training
    real_news: bool = False
    real_news_dir: str | None = None
    # at most this many real-news sentences, sampled per corpus label set (None: all of them);
    # or per corpus, e.g. {polnear: 4000} (a corpus not named is used whole)
    real_news_max: int | dict | None = None
    # keep PolNeAR dev and CheckThat! dev out of training and score the model on them after
    # training: the sets a recipe is tuned on (the real-news dev part decides the recipe), never the held-out ones
    real_news_dev: bool = False
    # weight of a real-news example relative to a bundled-corpus one (which keeps its class weight);
    # or per corpus, e.g. {checkthat: 1.0, default: 0.5}
    real_news_weight: float | dict = 1.0
    # the project's own three-way labels of real news (data/real_news/references.jsonl, train part),
    # materialised from real_news_dir; any recipe that reads real news also scores (and calibrates
    # on) the real-news dev part
    real_news_references: bool = False
    real_news_references_weight: float = 1.0
    # weigh the references' labels within each corpus by inverse class frequency (instead of the
    # class weights of the whole training set): CheckThat! and BABE were sampled for subjectivity,
    # so three in four of their references are claims, and that mix must not be learned as "copy
    # of this kind is a claim"
    real_news_references_balanced: bool = False
    # score the model on the real-news dev part after training, and fit the temperature on it:
    # None = when the corpora are there, true = required, false = never
    real_news_dev_part: bool | None = None
    # weight of a partial-label example ("neutral or attributed") relative to a definite one
    partial_label_weight: float = 1.0
    seed: int = 42
    # stop when dev macro-F1 has not improved for this many evaluations (0: never stop early)
    early_stopping_patience: int = 2
    # the source/cue token head, trained jointly with the sentence labels on the same hidden states
    # (saved beside the encoder as span_head.safetensors); its loss counts span_loss_weight times
    train_spans: bool = True
    span_loss_weight: float = 0.5
    max_steps: int = -1
    logging_steps: int = 20
    use_cpu: bool = True
    name: str | None = None
    # a copy of the generated model card goes here (None: only inside the model folder)
    model_card_dir: str | None = "model_cards"
    # checkpoints are needed by --resume while a run is unfinished; a finished run drops them
    keep_checkpoints: bool = False

    def __post_init__(self):
        self._check_numbers()
        if isinstance(self.class_weights, str) and self.class_weights not in ("balanced", "none"):
            raise ValueError(f"class_weights must be 'balanced', 'none' or three numbers, got {self.class_weights!r}")
        if isinstance(self.class_weights, list) and len(self.class_weights) != 3:
            raise ValueError("class_weights needs exactly three numbers, in LABELS order")
        if isinstance(self.extra_train_files, str):  # one path written without list brackets
            self.extra_train_files = [self.extra_train_files]
        if not self.max_length <= self.window_tokens <= 512:
            raise ValueError(f"window_tokens must lie between max_length ({self.max_length}) and 512, got {self.window_tokens}")
        if self.window_overlap is not None and not 0 <= self.window_overlap < self.window_tokens:
            raise ValueError(f"window_overlap must lie in [0, window_tokens), got {self.window_overlap}")
        for name, setting, extra in (("real_news_max", self.real_news_max, ()),
                                     ("real_news_weight", self.real_news_weight, ("default",))):
            if isinstance(setting, dict):
                unknown = sorted(set(setting) - set(CORPUS_NAMES) - set(extra))
                if unknown:
                    raise ValueError(f"{name}: unknown corpus {', '.join(unknown)}; "
                                     f"known: {', '.join(CORPUS_NAMES + extra)}")
        if not 0.0 <= self.lone_sentence_rate <= 1.0:
            raise ValueError(f"lone_sentence_rate must lie in [0, 1], got {self.lone_sentence_rate}")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8 tokens")

    def _check_numbers(self) -> None:
        """Numeric settings become numbers or raise, naming the setting. YAML reads ``5e-5`` (no
        dot) as a string, which would otherwise fail deep inside the optimizer after the data loaded."""
        for f in dataclasses.fields(self):
            kind = f.type.removesuffix(" | None")  # the annotations are strings (PEP 563)
            value = getattr(self, f.name)
            if kind not in ("int", "float") or value is None:
                continue
            number = value
            if isinstance(value, str):
                try:
                    number = float(value)
                except ValueError:
                    number = None
            if isinstance(number, bool) or not isinstance(number, (int, float)) or (
                    kind == "int" and not float(number).is_integer()):
                raise ValueError(f"{f.name} must be {'a whole number' if kind == 'int' else 'a number'}, got {value!r}")
            # a whole number stays one where a float is allowed ("2 epochs" in the model card)
            setattr(self, f.name, int(number) if kind == "int" or isinstance(number, int) else float(number))

    @property
    def run_name(self) -> str:
        return self.name or os.path.basename(os.path.normpath(self.output_dir))

    @property
    def model_dir(self) -> str:
        return os.path.join(self.output_dir, "model")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict, where: str = "config") -> "TrainingArguments":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str, settings: list[str] | None = None, **overrides) -> "TrainingArguments":
        """Read a config file; ``settings`` are ``key=value`` overrides (``--set`` on the command
        line; the value is read as YAML, so ``3``, ``true``, ``[a, b]`` and ``{polnear: 100}`` work),
        checked like the file's keys. Relative paths in the file resolve from the file's own folder
        (so a run does not depend on where it was started); paths given on the command line
        resolve from the current folder."""
        import yaml

        if not os.path.isfile(path):
            raise FileNotFoundError(f"config file not found: {path}")
        with open(path, encoding="utf-8") as f:
            values = yaml.safe_load(f) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: a config file must be a mapping of settings")
        base = os.path.dirname(os.path.abspath(path))
        values = {k: _resolve(v, base) if k in PATH_FIELDS else v for k, v in values.items()}
        # command-line paths are the user's, typed relative to the current folder
        given = {k: v for k, v in overrides.items() if v is not None} | parse_settings(settings or [])
        values.update({k: _resolve(v, os.getcwd()) if k in PATH_FIELDS else v for k, v in given.items()})
        return cls.from_dict(values, where=path)


# settings that name files or folders: in a config file they are relative to the file's folder
PATH_FIELDS = ("train_file", "extra_train_files", "dev_file", "test_file", "pairs_file", "output_dir",
               "model_card_dir", "real_news_dir")


def _resolve(value, base: str):
    if isinstance(value, list):
        return [_resolve(v, base) for v in value]
    if isinstance(value, str) and value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base, value))
    return value


def parse_settings(settings: list[str]) -> dict:
    """``["key=value", ...]`` -> ``{key: value}``, each value read as YAML."""
    import yaml

    out = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as e:
            raise ValueError(f"--set {key.strip()}: cannot read {raw!r} ({e.__class__.__name__})") from None
    return out
