import pytest

from stancelib import TrainingArguments


def test_yaml_config_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("backbone: minilm-l6\nlearning_rate: 3.0e-5\nnum_train_epochs: 2\nclass_weights: none\n")
    args = TrainingArguments.from_yaml(str(path), seed=5, output_dir=None)
    assert args.learning_rate == 3e-5 and args.num_train_epochs == 2 and args.seed == 5
    assert args.output_dir == "runs/default" and args.run_name == "default"
    assert args.model_dir.endswith("runs/default/model")


def test_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rte: 1.0e-3\n")
    with pytest.raises(ValueError, match=r"c\.yaml: unknown setting\(s\) learning_rte"):
        TrainingArguments.from_yaml(str(path))


def test_bad_values(tmp_path):
    with pytest.raises(ValueError, match="class_weights"):
        TrainingArguments(class_weights="heavy")
    with pytest.raises(ValueError, match="three numbers"):
        TrainingArguments(class_weights=[1.0, 2.0])
    with pytest.raises(FileNotFoundError):
        TrainingArguments.from_yaml(str(tmp_path / "missing.yaml"))


def test_shipped_configs_parse():
    import glob

    configs = glob.glob("configs/*.yaml")
    assert configs
    for path in configs:
        TrainingArguments.from_yaml(path)


def test_per_corpus_real_news_settings():
    from stancelib.trainer import real_news_weight

    args = TrainingArguments(real_news_max={"polnear": 4000}, real_news_weight={"checkthat": 1.0, "default": 0.5})
    assert real_news_weight(args.real_news_weight, "checkthat") == 1.0
    assert real_news_weight(args.real_news_weight, "babe") == 0.5
    assert real_news_weight({"checkthat": 2.0}, "babe") == 1.0 and real_news_weight(0.25, "polnear") == 0.25
    with pytest.raises(ValueError, match="unknown corpus chekthat"):
        TrainingArguments(real_news_weight={"chekthat": 1.0})
    with pytest.raises(ValueError, match="real_news_max: unknown corpus default"):
        TrainingArguments(real_news_max={"default": 10})
