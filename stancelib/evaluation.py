"""Evaluation: per-class scores, macro-F1, confusion matrix, minimal pairs, reports.

Any object with ``predict(list_of_texts) -> list_of_labels`` can be evaluated:
the transformer (``StanceClassifier``) and both baselines share this interface,
so every report shows them side by side on the same sentences.
"""

from __future__ import annotations

import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .atomic import write_text
from .labels import LABELS


def classification_scores(y_true: list[str], y_pred: list[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=list(LABELS), average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(LABELS, precision, recall, f1, support)
        },
        "labels": list(LABELS),
        # rows: true label, columns: predicted label, both in LABELS order
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def minimal_pair_scores(records: list[dict], y_pred: list[str]) -> dict:
    """Accuracy over pair members, and the share of groups with all three members right."""
    groups: dict[str, list[bool]] = {}
    for rec, pred in zip(records, y_pred):
        groups.setdefault(rec["doc"], []).append(rec["label"] == pred)
    per_label = {
        name: float(np.mean([p == name for r, p in zip(records, y_pred) if r["label"] == name] or [np.nan]))
        for name in LABELS
    }
    return {
        "n_groups": len(groups),
        "accuracy": float(np.mean([ok for oks in groups.values() for ok in oks])) if groups else float("nan"),
        "groups_all_correct": float(np.mean([all(oks) for oks in groups.values()])) if groups else float("nan"),
        "recall_per_label": per_label,
    }


def predict_labels_and_probs(system, texts: list[str], records: list[dict] | None = None):
    """Labels and (n, 3) probabilities in LABELS order from one pass (probabilities may be None).

    The document model reads each record in its document (same ``doc``, ordered by ``i``;
    ``StanceClassifier.predict_proba_records``); the baselines read sentences alone.
    """
    if not hasattr(system, "predict_proba"):
        return list(system.predict(texts)), None
    if hasattr(system, "predict_proba_records") and records is not None:
        probs = system.predict_proba_records(records)
    else:
        probs = system.predict_proba(texts)
    probs = np.asarray(probs, dtype=np.float64)
    order = [list(getattr(system, "labels", LABELS)).index(name) for name in LABELS]
    probs = probs[:, order]
    return [LABELS[k] for k in probs.argmax(axis=1)], probs


def calibration_scores(probs: np.ndarray, label_ids: np.ndarray, temperature: float | None = None) -> dict:
    """Expected calibration error; with the system's fitted temperature also the uncalibrated ECE."""
    from .calibration import expected_calibration_error, softmax

    out = {"ece": expected_calibration_error(probs, label_ids)}
    if temperature is not None:
        # p = softmax(z / T), so softmax(T * log p) = softmax(z): the raw probabilities, without a second pass
        out["ece_uncalibrated"] = expected_calibration_error(softmax(temperature * np.log(np.clip(probs, 1e-30, 1))), label_ids)
        out["temperature"] = temperature
    return out


def evaluate_system(system, records: list[dict], pair_records: list[dict] | None = None) -> dict:
    """Score one system on sentence records (and, if given, on minimal-pair records)."""
    preds, probs = predict_labels_and_probs(system, [r["text"] for r in records], records)
    report = classification_scores([r["label"] for r in records], preds)
    if probs is not None:
        label_ids = np.array([LABELS.index(r["label"]) for r in records])
        report["calibration"] = calibration_scores(probs, label_ids, getattr(system, "temperature", None))
    if pair_records:
        # each pair member is read alone: the three members of a group are no article
        pair_preds, _ = predict_labels_and_probs(system, [r["text"] for r in pair_records],
                                                 [r | {"i": None} for r in pair_records])
        report["minimal_pairs"] = minimal_pair_scores(pair_records, pair_preds)
    return report


def format_table(reports: dict[str, dict], title: str = "") -> str:
    """A plain-text table: one row per system, the same columns for all."""
    short = {"neutral_report": "F1 neutral", "attributed_statement": "F1 attrib", "unattributed_claim": "F1 claim"}
    header = ["system", "macro-F1", "accuracy", *short.values(), "pairs acc", "ECE"]
    rows = []
    for name, rep in reports.items():
        pairs = rep.get("minimal_pairs", {}).get("accuracy")
        cal = rep.get("calibration", {})
        ece = "-" if "ece" not in cal else f"{cal['ece']:.3f}" + (f" ({cal['ece_uncalibrated']:.3f} raw)" if "ece_uncalibrated" in cal else "")
        rows.append([
            name, f"{rep['macro_f1']:.3f}", f"{rep['accuracy']:.3f}",
            *(f"{rep['per_class'][label]['f1']:.3f}" for label in LABELS),
            "-" if pairs is None else f"{pairs:.3f}", ece,
        ])
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if k == 0 else str(c).rjust(w) for k, (c, w) in enumerate(zip(r, widths)))
    lines = ([title] if title else []) + [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]
    return "\n".join(lines)


def plot_confusion_matrix(report: dict, path: str, title: str) -> None:
    """Write the confusion matrix of ``report`` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(report["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(5.2, 4.4), dpi=120)
    ax.imshow(matrix, cmap="Blues")
    names = [name.replace("_", "\n") for name in report["labels"]]
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (r, c), v in np.ndenumerate(matrix):
        ax.text(c, r, str(v), ha="center", va="center", color="white" if v > matrix.max() / 2 else "black")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_reports(reports: dict[str, dict], out_dir: str, meta: dict | None = None) -> str:
    """Write ``report.json``, one confusion-matrix PNG per system, and ``report.txt``; return the table."""
    os.makedirs(out_dir, exist_ok=True)
    table = format_table(reports, title=(meta or {}).get("title", ""))
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta or {}, "systems": reports}, f, indent=2)
    with open(os.path.join(out_dir, "report.txt"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    for name, rep in reports.items():
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
        plot_confusion_matrix(rep, os.path.join(out_dir, f"confusion_{safe}.png"), f"{name} (n={rep['n']})")
    return table


def model_training_records(clf) -> list[dict]:
    """The bundled-corpus training records named in a model's metadata (definite labels only)."""
    from .data import load_minimal_pairs, read_records

    targs = clf.metadata.get("training_args", {})
    paths = [targs.get("train_file"), *targs.get("extra_train_files", [])]
    records = [r for path in paths if path and os.path.isfile(path) for r in read_records(path)]
    if targs.get("pairs_file") and os.path.isfile(targs["pairs_file"]):
        records += load_minimal_pairs(targs["pairs_file"], "train")
    return records


def baseline_systems(train_records: list[dict]) -> dict:
    """Both baselines, the TF-IDF one fitted on ``train_records`` (skipped when there are none)."""
    from .baselines import RuleBaseline, TfidfBaseline

    systems = {"rule baseline": RuleBaseline()}
    if train_records:
        systems["tfidf+lr"] = TfidfBaseline().fit([r["text"] for r in train_records], [r["label"] for r in train_records])
    return systems


def system_name(clf, model_dir: str) -> str:
    return f"stancelib ({clf.metadata.get('run_name', os.path.basename(os.path.normpath(model_dir)))})"


def run_evaluation(model_dir: str, data: str, pairs: str | None = None, pairs_split: str | None = "test",
                   out_dir: str | None = None, baselines: bool = True, record: bool = False) -> tuple[str, dict]:
    """Evaluate a saved model beside both baselines and write reports to ``out_dir``.

    The model folder is read only, unless ``record=True`` (``stancelib evaluate --update-card``)
    adds the scores to its ``stancelib.json`` and model card. The baselines are fitted on the
    model's own training data (the files named in its metadata, absolute paths), so all systems
    learn from the same sentences; if those files are gone the baselines are skipped with a note.
    """
    import datetime

    from .data import load_minimal_pairs, read_records
    from .modeling import StanceClassifier

    clf = StanceClassifier.from_pretrained(model_dir)
    records = read_records(data)
    partial = [r for r in records if not r["label"]]
    if partial:
        from .data import DataError

        raise DataError(f"{partial[0]['_where']}: this file has partial labels (label null, allowed "
                        f"{partial[0]['allowed']}); evaluate needs one gold label per line")
    pair_records = load_minimal_pairs(pairs, pairs_split) if pairs else None
    train_records = model_training_records(clf) if baselines else []
    systems = baseline_systems(train_records) if baselines else {}
    model_name = system_name(clf, model_dir)
    systems[model_name] = clf
    reports = {name: evaluate_system(system, records, pair_records) for name, system in systems.items()}
    if clf.has_spans and any(r["source"] or r["cue"] for r in records):
        from .spans import evaluate_spans

        reports[model_name]["spans"] = evaluate_spans(clf, records)
    data_name = os.path.splitext(os.path.basename(data))[0]
    meta = {"title": f"{data_name}: {len(records)} sentences" + (f", {len(pair_records) // 3} minimal-pair groups" if pair_records else ""),
            "model": model_dir, "data": data, "pairs": pairs, "pairs_split": pairs_split}
    table = write_reports(reports, out_dir or os.path.join(model_dir, "..", f"eval-{data_name}"), meta)
    if baselines and not train_records:
        table += ("\nnote: the TF-IDF baseline is left out: the training files named in the model's metadata "
                  f"({', '.join(p for p in [clf.metadata.get('training_args', {}).get('train_file')] if p) or 'none'}) "
                  "are not on this machine")
    spans = reports[model_name].get("spans")
    if spans:
        table += ("\nspans (gold attributed sentences): "
                  + "; ".join(f"{kind} F1 exact {spans[kind]['exact']['f1']:.3f}, overlap {spans[kind]['overlap']['f1']:.3f}"
                              for kind in ("source", "cue")))
    if record:
        entry = {"date": datetime.date.today().isoformat(), "data": data, "pairs": pairs, "n": len(records), "systems": reports}
        clf.metadata.setdefault("evaluations", {})[data_name] = entry
        record_model_metadata(clf, model_dir)
    return table, reports


def record_model_metadata(clf, model_dir: str) -> None:
    """Rewrite a model's ``stancelib.json`` and model card (file by file, atomically) from ``clf.metadata``."""
    from .model_card import render_model_card, write_model_card_copy
    from .modeling import METADATA_FILE

    write_text(os.path.join(model_dir, METADATA_FILE), json.dumps(clf.metadata, indent=2))
    write_text(os.path.join(model_dir, "README.md"), render_model_card(clf.metadata))
    write_model_card_copy(clf.metadata, clf.metadata.get("training_args", {}).get("model_card_dir"))


# ---- held-out real news (binary views of the three-way prediction) ---------------------------

# name -> (corpus loader name, split, what "positive" means, gold values that are positive, predicted label that is)
REAL_NEWS_SETS = {
    "polnear-test": ("load_polnear", "test", "attributed vs not", {"attributed"}, "attributed_statement"),
    "checkthat-dev_test": ("load_checkthat", "dev_test", "unattributed (SUBJ) vs not (OBJ)", {"SUBJ"}, "unattributed_claim"),
    "babe-reuters": ("load_babe", "heldout", "unattributed (writer's opinion) vs entirely factual",
                     {"Expresses writer\u2019s opinion", "Expresses writer's opinion"}, "unattributed_claim"),
}
# the dev splits the news-mix recipe is tuned on (kept out of training by ``real_news_dev``)
REAL_NEWS_DEV_SETS = {
    "polnear-dev": ("load_polnear", "dev", "attributed vs not", {"attributed"}, "attributed_statement"),
    "checkthat-dev": ("load_checkthat", "dev", "unattributed (SUBJ) vs not (OBJ)", {"SUBJ"}, "unattributed_claim"),
}
_ALL_REAL_NEWS_SETS = {**REAL_NEWS_SETS, **REAL_NEWS_DEV_SETS}


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def binary_scores(gold: np.ndarray, pred: np.ndarray) -> dict:
    """Precision, recall and F1 of the positive class, F1 of the negative one, their macro mean."""
    gold, pred = np.asarray(gold, bool), np.asarray(pred, bool)
    tp, fp = int((gold & pred).sum()), int((~gold & pred).sum())
    fn, tn = int((gold & ~pred).sum()), int((~gold & ~pred).sum())
    f1_pos, f1_neg = _f1(tp, fp, fn), _f1(tn, fn, fp)
    return {
        "n": len(gold), "positives": int(gold.sum()),
        "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": f1_pos, "f1_negative": f1_neg, "macro_f1": (f1_pos + f1_neg) / 2,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
    }


def bootstrap_ci(gold, pred, metric: str, n_resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of ``binary_scores(...)[metric]`` over resampled sentences."""
    gold, pred = np.asarray(gold, bool), np.asarray(pred, bool)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(gold), len(gold))
        values.append(binary_scores(gold[idx], pred[idx])[metric])
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def real_news_scores(system, name: str, records: list[dict], n_resamples: int = 1000) -> dict:
    """Binary scores (with bootstrap 95% intervals) of one system on one held-out real-news set."""
    _, _, meaning, positive_gold, positive_label = _ALL_REAL_NEWS_SETS[name]
    gold = np.array([r["gold"] in positive_gold for r in records])
    preds, _ = predict_labels_and_probs(system, [r["text"] for r in records], records)
    pred = np.array([p == positive_label for p in preds])
    scores = binary_scores(gold, pred)
    scores["meaning"] = meaning
    scores["three_way_prediction_shares"] = {lab: float(np.mean([p == lab for p in preds])) for lab in LABELS}
    for metric in ("f1", "macro_f1"):
        scores[f"{metric}_ci95"] = bootstrap_ci(gold, pred, metric, n_resamples)
    return scores


def load_real_news_set(name: str, root: str | None = None) -> list[dict]:
    from . import corpora

    loader, split = _ALL_REAL_NEWS_SETS[name][:2]
    return getattr(corpora, loader)(split, root)


def evaluate_real_news(systems: dict, names=None, root: str | None = None, n_resamples: int = 1000) -> dict:
    """``{set name: {system name: scores}}`` on the held-out real-news sets (or the ``names`` given)."""
    results = {}
    for name in names or REAL_NEWS_SETS:
        records = load_real_news_set(name, root)
        results[name] = {sys_name: real_news_scores(system, name, records, n_resamples) for sys_name, system in systems.items()}
    return results


def format_real_news_table(results: dict) -> str:
    lines = []
    for name, by_system in results.items():
        first = next(iter(by_system.values()))
        lines.append(f"{name}: {first['meaning']} ({first['n']} sentences, {first['positives']} positive)")
        lines.append(f"  {'system':28s} {'F1':>22s} {'macro-F1':>22s} {'FP rate':>8s}")
        for sys_name, sc in by_system.items():
            f1 = f"{sc['f1']:.3f} [{sc['f1_ci95'][0]:.3f}, {sc['f1_ci95'][1]:.3f}]"
            macro = f"{sc['macro_f1']:.3f} [{sc['macro_f1_ci95'][0]:.3f}, {sc['macro_f1_ci95'][1]:.3f}]"
            lines.append(f"  {sys_name:28s} {f1:>22s} {macro:>22s} {sc['false_positive_rate']:8.3f}")
    return "\n".join(lines)


# ---- the real-news dev part (the project's own three-way labels of real news) ---------------

def real_news_dev_scores(system, records: list[dict], logits: np.ndarray | None = None) -> dict:
    """Three-way scores on the real-news dev part (``corpora.load_real_news("dev")``): macro-F1,
    per-label F1, the share of neutral reports called claims, ECE, and macro-F1 per corpus.
    ``logits`` (raw, in ``system.labels`` order) reuse a pass already made."""
    from .calibration import expected_calibration_error, softmax

    if logits is not None:
        probs = softmax(logits, getattr(system, "temperature", 1.0))[:, [list(system.labels).index(n) for n in LABELS]]
        preds = [LABELS[k] for k in probs.argmax(1)]
    else:
        preds, probs = predict_labels_and_probs(system, [r["text"] for r in records], records)
    gold = [r["label"] for r in records]
    out = classification_scores(gold, preds)
    neutral = [p for g, p in zip(gold, preds) if g == "neutral_report"]
    out["neutral_called_claim"] = float(np.mean([p == "unattributed_claim" for p in neutral])) if neutral else float("nan")
    if probs is not None:
        out["ece"] = expected_calibration_error(probs, np.array([LABELS.index(g) for g in gold]))
    out["per_corpus"] = {}
    for corpus in sorted({r.get("corpus") for r in records}):
        idx = [k for k, r in enumerate(records) if r.get("corpus") == corpus]
        out["per_corpus"][corpus] = {"n": len(idx), "macro_f1": classification_scores(
            [gold[k] for k in idx], [preds[k] for k in idx])["macro_f1"]}
    return out
