import os

import pytest

from stancelib import TrainingArguments

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs")


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

    # relative to this file, not to the folder pytest was started from
    configs = sorted(glob.glob(os.path.join(CONFIGS, "*.yaml")))
    assert [os.path.basename(p) for p in configs] == ["default.yaml", "news-mix.yaml"]
    for path in configs:
        args = TrainingArguments.from_yaml(path)
        # the recipes' ../data paths resolve from configs/, to the bundled corpus
        assert os.path.isfile(args.train_file), (path, args.train_file)


def test_config_paths_resolve_from_the_config_folder(tmp_path, monkeypatch):
    sub = tmp_path / "recipes"
    sub.mkdir()
    (sub / "c.yaml").write_text("train_file: data.jsonl\nextra_train_files: [more/a.jsonl]\n"
                                "dev_file: ../dev.jsonl\noutput_dir: runs/x\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the folder a run starts from must not matter
    args = TrainingArguments.from_yaml(str(sub / "c.yaml"))
    assert args.train_file == str(sub / "data.jsonl")
    assert args.extra_train_files == [str(sub / "more" / "a.jsonl")]
    assert args.dev_file == str(tmp_path / "dev.jsonl")
    assert args.output_dir == str(sub / "runs" / "x")
    # a path given on the command line is the user's: relative to the current folder
    args = TrainingArguments.from_yaml(str(sub / "c.yaml"), settings=["train_file=mine.jsonl"])
    assert args.train_file == str(elsewhere / "mine.jsonl")
    # an absolute path is kept as it is
    (sub / "abs.yaml").write_text(f"train_file: {tmp_path / 'abs.jsonl'}\n")
    assert TrainingArguments.from_yaml(str(sub / "abs.yaml")).train_file == str(tmp_path / "abs.jsonl")


def test_settings_override_the_file_and_are_checked(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("num_train_epochs: 4\nreal_news_max: {checkthat: 7}\n")
    args = TrainingArguments.from_yaml(str(path), settings=["num_train_epochs=2", "real_news_max={polnear: 5}"])
    assert args.num_train_epochs == 2 and isinstance(args.num_train_epochs, int)
    assert args.real_news_max == {"polnear": 5}  # the value replaces the file's, read as YAML
    assert TrainingArguments.from_yaml(str(path)).num_train_epochs == 4  # the file itself is untouched
    with pytest.raises(ValueError, match="unknown setting.*num_train_epoch\\b"):
        TrainingArguments.from_yaml(str(path), settings=["num_train_epoch=2"])
    with pytest.raises(ValueError, match="real_news_max: unknown corpus polnar"):
        TrainingArguments.from_yaml(str(path), settings=["real_news_max={polnar: 5}"])
    with pytest.raises(ValueError, match="key=value"):
        TrainingArguments.from_yaml(str(path), settings=["num_train_epochs"])


@pytest.mark.parametrize("key", ["notes", "extra", "context", "context_window"])
def test_removed_keys_are_unknown(tmp_path, key):
    path = tmp_path / "c.yaml"
    path.write_text(f"{key}: 2\n")
    with pytest.raises(ValueError, match=rf"unknown setting\(s\) {key};"):
        TrainingArguments.from_yaml(str(path))
    clean = tmp_path / "clean.yaml"
    clean.write_text("seed: 1\n")
    with pytest.raises(ValueError, match=rf"unknown setting\(s\) {key};"):
        TrainingArguments.from_yaml(str(clean), settings=[f"{key}=1"])
    with pytest.raises(TypeError):
        TrainingArguments(**{key: 1})  # no such field in the dataclass either


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


def test_numbers_written_without_a_dot_are_numbers(tmp_path):
    # YAML 1.1 reads 5e-5 as a string; it must train at 5e-5, not fail inside the optimizer
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 5e-5\nnum_train_epochs: 2\n")
    args = TrainingArguments.from_yaml(str(path), ["weight_decay=1e-2", "max_steps=3.0"])
    assert args.learning_rate == 5e-5 and isinstance(args.learning_rate, float)
    assert args.weight_decay == 0.01 and args.num_train_epochs == 2
    assert args.max_steps == 3 and isinstance(args.max_steps, int)


@pytest.mark.parametrize("setting,message", [("learning_rate=fast", "learning_rate must be a number"),
                                             ("max_length=3.5", "max_length must be a whole number"),
                                             ("seed=true", "seed must be a whole number")])
def test_numeric_settings_are_checked(tmp_path, setting, message):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\n")
    with pytest.raises(ValueError, match=message):
        TrainingArguments.from_yaml(str(path), [setting])
