# The two commands that matter: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Loopback by default: the page has no login. `make run ADDRESS=0.0.0.0` to share it.
ADDRESS ?= 127.0.0.1
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint eval bench bench-quick ingest llm train-reader train-decision clean

$(BIN)/python:
	@echo "first run: creating $(VENV) and installing pinned packages" \
		"(about 3-6 minutes on 2 cores)..."
	$(shell command -v $(PY) >/dev/null 2>&1 && echo $(PY) || echo python3) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	@echo "installing the pinned packages of requirements.txt into $(VENV)" \
		"(quiet; a few minutes the first time, seconds after)..."
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-llm.txt requirements-bench.txt requirements-scale.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-scale.txt  # Ray, for the distributed ingest tests
	$(BIN)/pip install --quiet --no-deps -r requirements-bench.txt  # why --no-deps: see the file
	touch $@

ingest: $(VENV)/.runtime  ## ingest seeds/ into vectorstore/ (a no-op when nothing changed)
	$(BIN)/python -m rag ingest

run: ingest  ## start the chat page on http://localhost:$(PORT)
	@echo "starting the chat page on http://$(ADDRESS):$(PORT) (Ctrl+C to stop)"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS) \
		--server.headless true \
		--browser.gatherUsageStats false

lint: $(VENV)/.dev  ## ruff lint + format check, mypy on rag/ (strict on the service seam)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --strict --follow-imports=silent rag/service rag/answer.py

test: lint  ## lint, then the whole suite (unit + integration + browser)
	$(BIN)/python -m pytest

# Each set is scored against a store of exactly its own documents (never vectorstore/), and
# each report's label says whether anything was tuned on it (eval/*/README.md: sources,
# licenses, split rules; `python -m scripts.make_eval_sets` writes the sets).
# Never tuned on: squad2-dev, tydi-dev, squad11-dev-extra, squadshifts-dev (8 of 48 articles).
# Tuned on: calais, and squad2-, tydi-, squad11-calibrate (the answer decision is fitted there).
# followups: the follow-up rules were developed on its dev split (eval/followups/README.md).
eval: $(VENV)/.runtime  ## offline evaluation reports in reports/eval/<set>/ (~15,000 questions)
	$(BIN)/python -m rag.eval eval/qa_calais.jsonl --documents seeds --out reports/eval/calais \
		--label "tuned on (the seed article's questions)"
	$(BIN)/python -m rag.eval eval/squad2/dev.json --documents eval/squad2/dev \
		--out reports/eval/squad2-dev --label "never tuned on (dev articles)"
	$(BIN)/python -m rag.eval eval/tydi/dev.json --documents eval/tydi/dev \
		--out reports/eval/tydi-dev --label "never tuned on (dev articles)"
	$(BIN)/python -m rag.eval eval/squad11-dev-extra/dev.json --documents eval/squad11-dev-extra/dev \
		--out reports/eval/squad11-dev-extra --label "never tuned on (dev articles)"
	$(BIN)/python -m rag.eval eval/squadshifts/dev.json --documents eval/squadshifts/dev \
		--out reports/eval/squadshifts-dev --label "never tuned on (dev articles)"
	$(BIN)/python -m rag.eval eval/squad2/calibrate.json --documents eval/squad2/calibrate \
		--out reports/eval/squad2-calibrate --label "tuned on (calibration articles)"
	$(BIN)/python -m rag.eval eval/tydi/calibrate.json --documents eval/tydi/calibrate \
		--out reports/eval/tydi-calibrate --label "tuned on (calibration articles)"
	$(BIN)/python -m rag.eval eval/squad11/calibrate.json --documents eval/squad11/calibrate \
		--out reports/eval/squad11-calibrate --label "tuned on (calibration articles)"
	$(BIN)/python -m rag.eval eval/followups/followups.jsonl --documents eval/followups/documents \
		--out reports/eval/followups --label "tuned on (follow-up rules developed on its dev split)"
	$(BIN)/python -m rag.eval eval/newcomer/qa_newcomer.jsonl --documents eval/newcomer/documents \
		--out reports/eval/newcomer --label "never tuned on (a new user's documents, issue 26)"

# The reader: fine-tune MiniLM for answer spans + no-answer (resumable: run it again after a
# kill and it continues), export to ONNX (int8 kept only if it holds within one point),
# then fit the decision on calibration articles (with the rule's ablation) and copy the
# result into rag/models/reader. Hours on 2 cores (see its MODEL_CARD.md).
train-reader: $(VENV)/.dev  ## train the reader and its decision -> rag/models/reader
	$(BIN)/python -m training.reader.train --work build/reader
	$(BIN)/python -m training.reader.export build/reader/export
	$(BIN)/python -m training.reader.calibrate --reader build/reader/export --limit 1500 --ablation --ship

# Refit only the decision (minutes) for the reader already in build/reader/export.
train-decision: $(VENV)/.dev  ## refit the answer decision on calibration articles
	$(BIN)/python -m training.reader.calibrate --reader build/reader/export --limit 1500 --reuse --ship

llm: $(VENV)/.runtime  ## optional: local/hosted LLM answer modes (builds llama-cpp-python)
	$(BIN)/pip install --quiet -r requirements-llm.txt

bench: $(VENV)/.dev  ## benchmarks vs the LangChain tutorial pipeline -> docs/BENCHMARKS.md (hours)
	$(BIN)/python -m bench.run

bench-quick: $(VENV)/.dev  ## the seed article and 200 documents, side by side (a few minutes)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*/ .pytest_cache
