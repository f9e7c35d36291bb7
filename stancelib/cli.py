"""The ``stancelib`` command: ``train``, ``evaluate``, ``predict``, ``backbones``."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .batch import add_corpus_arguments
from .batch import register_cli as register_batch_cli
from .export import register_cli as register_export_cli
from .serve import register_cli as register_serve_cli


def _cmd_train(ns) -> int:
    from .trainer import train
    from .training_args import TrainingArguments

    args = TrainingArguments.from_yaml(ns.config, settings=ns.set, output_dir=ns.output_dir, max_steps=ns.max_steps,
                                       seed=ns.seed, real_news_dir=ns.data_dir)
    result = train(args, resume=ns.resume)
    if not result["metrics"]:  # a rank other than 0 under torchrun / accelerate launch: rank 0 reports
        return 0
    dev = result["metrics"]["dev"]
    print(f"saved {result['model_dir']}  (dev macro-F1 {dev['macro_f1']:.3f}, accuracy {dev['accuracy']:.3f})")
    if result.get("model_card"):
        print(f"model card: {result['model_card']}")
    return 0


def _cmd_evaluate(ns) -> int:
    from .evaluation import run_evaluation

    if ns.real_news:
        from .evaluation import (REAL_NEWS_DEV_SETS, REAL_NEWS_SETS, baseline_systems, evaluate_real_news,
                                 format_real_news_table, model_training_records, system_name)
        from .modeling import StanceClassifier

        clf = StanceClassifier.from_pretrained(ns.model)
        if ns.real_news == "references-dev":
            from .corpora import load_real_news
            from .evaluation import real_news_dev_scores

            sc = real_news_dev_scores(clf, load_real_news("dev", ns.data_dir))
            print(f"real-news dev part ({sc['n']} sentences): macro-F1 {sc['macro_f1']:.3f}, "
                  + ", ".join(f"F1 {n} {sc['per_class'][n]['f1']:.3f}" for n in sc["per_class"])
                  + f"; neutral called claims {sc['neutral_called_claim']:.1%}; ECE {sc.get('ece', float('nan')):.3f}")
            print("per corpus: " + ", ".join(f"{c} {v['macro_f1']:.3f} (n={v['n']})" for c, v in sc["per_corpus"].items()))
            return 0
        names = {"all": list(REAL_NEWS_SETS), "dev": list(REAL_NEWS_DEV_SETS)}.get(ns.real_news, [ns.real_news])
        systems = {} if ns.no_baselines else baseline_systems(model_training_records(clf))
        systems[system_name(clf, ns.model)] = clf
        print(format_real_news_table(evaluate_real_news(systems, names, ns.data_dir)))
        return 0
    if not ns.data:
        print("stancelib evaluate: give --data FILE (or --real-news SET)", file=sys.stderr)
        return 2
    table, _ = run_evaluation(ns.model, ns.data, pairs=ns.pairs, pairs_split=ns.pairs_split or None,
                              out_dir=ns.out, baselines=not ns.no_baselines, record=ns.update_card)
    print(table)
    return 0


def _cmd_predict(ns) -> int:
    from .modeling import StanceClassifier

    if ns.input:
        from .batch import run_corpus_predict

        return run_corpus_predict(StanceClassifier.from_pretrained(ns.model), ns)
    if not ns.sentences and not ns.file:
        print("stancelib predict: give sentences as arguments or --file ARTICLE.txt", file=sys.stderr)
        return 2
    clf = StanceClassifier.from_pretrained(ns.model)
    if ns.file:
        with open(ns.file, encoding="utf-8") as f:
            text = f.read()
        analysis = clf.analyze(text)
        if ns.html:
            from .report import render_html

            with open(ns.html, "w", encoding="utf-8") as f:
                f.write(render_html(text, analysis, title=os.path.basename(ns.file), model=ns.model))
        print(json.dumps(analysis.to_dict(), indent=2) if ns.json else analysis.to_table())
        if ns.html:
            print(f"HTML report: {ns.html}", file=sys.stderr)
        return 0
    probs = clf.predict_proba(ns.sentences)
    labels = [clf._label(row) for row in probs]
    if ns.json:
        rows = [{"text": t, "label": lab, "probabilities": dict(zip(clf.labels, map(float, p)))}
                for t, lab, p in zip(ns.sentences, labels, probs)]
        print(json.dumps(rows, indent=2))
    else:
        for text, lab, p in zip(ns.sentences, labels, probs):
            print(f"{lab or '-':22s} {max(p):.2f}  {text}")
    return 0


def _cmd_backbones(ns) -> int:
    from .backbones import BACKBONES

    for name, (_, desc) in BACKBONES.items():
        print(f"{name:12s} {desc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stancelib", description="Who stands behind each sentence of a news text.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="fine-tune a classifier from a YAML config")
    p.add_argument("--config", required=True, help="YAML file of training arguments (configs/default.yaml)")
    p.add_argument("--output-dir", help="override output_dir from the config")
    p.add_argument("--max-steps", type=int, help="override max_steps (a quick smoke run)")
    p.add_argument("--seed", type=int, help="override seed")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint of an interrupted run")
    p.add_argument("--data-dir", help="folder of the real news corpora (news-mix; default $STANCELIB_DATA or ../shared/data)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set num_train_epochs=2 --set real_news_max='{polnear: 500}' "
                        "(the value is read as YAML; checked like the file); repeatable")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a model beside both baselines on a labelled file")
    p.add_argument("--model", required=True, help="model folder (runs/default/model)")
    p.add_argument("--data", help="labelled JSONL or CSV file")
    p.add_argument("--real-news", choices=["all", "polnear-test", "checkthat-dev_test", "babe-reuters",
                                           "dev", "polnear-dev", "checkthat-dev", "references-dev"],
                   help="score on a real news set instead: 'all' = the three held-out sets (binary views, "
                        "bootstrap 95%% intervals), 'dev' = PolNeAR dev and CheckThat! dev, 'references-dev' = "
                        "the real-news dev part of the project's own three-way labels (the tuning instrument)")
    p.add_argument("--data-dir", help="folder of the real news corpora (default $STANCELIB_DATA or ../shared/data)")
    p.add_argument("--pairs", help="minimal-pair file to score as well")
    p.add_argument("--pairs-split", default="test", help="which split of the minimal pairs ('' for all; default test)")
    p.add_argument("--out", help="report folder (default: beside the model, eval-<data name>)")
    p.add_argument("--no-baselines", action="store_true", help="score the model alone")
    p.add_argument("--update-card", action="store_true",
                   help="also record the scores in the model folder's stancelib.json and model card "
                        "(by default the model folder is only read)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="label sentences, or analyse an article with --file")
    p.add_argument("--model", required=True)
    p.add_argument("sentences", nargs="*", help="sentences to label")
    p.add_argument("--file", help="a text file: split into sentences and label each")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--html", help="with --file: also write an HTML report to this path")
    add_corpus_arguments(p)  # --input/--output/--shard: a whole corpus, resumable (stancelib/batch/)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("backbones", help="list the named backbones")
    p.set_defaults(func=_cmd_backbones)
    register_batch_cli(sub)  # merge
    register_export_cli(sub)  # export
    register_serve_cli(sub)  # serve (stancelib/serve/; FastAPI imported only when it runs)
    return parser


def main(argv=None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return ns.func(ns)
    except (FileNotFoundError, ValueError, OSError) as e:
        # data, config and model-folder errors carry their own file:line message
        print(f"stancelib {ns.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
