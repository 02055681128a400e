# The two commands that matter: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Loopback by default: the page has no login. `make run ADDRESS=0.0.0.0` to share it.
ADDRESS ?= 127.0.0.1
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint eval bench bench-quick ingest llm train train-verifier clean

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

$(VENV)/.dev: requirements-dev.txt requirements-llm.txt requirements-bench.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-bench.txt  # why --no-deps: see the file
	touch $@

ingest: $(VENV)/.runtime  ## ingest seeds/ into vectorstore/ (a no-op when nothing changed)
	$(BIN)/python -m rag ingest

run: ingest  ## start the chat page on http://localhost:$(PORT)
	@echo "starting the chat page on http://$(ADDRESS):$(PORT) (Ctrl+C to stop)"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS) \
		--server.headless true \
		--browser.gatherUsageStats false

lint: $(VENV)/.dev  ## ruff lint + format check, mypy on rag/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, then the whole suite (unit + integration + browser)
	$(BIN)/python -m pytest

# Each set is scored against a store of exactly its own documents (never vectorstore/).
# squad2-dev: articles nothing was tuned on; squad2-train: the verifier was trained there.
eval: $(VENV)/.runtime  ## offline evaluation reports in reports/eval/{calais,squad2-dev,squad2-train,followups}/
	$(BIN)/python -m rag.eval eval/qa_calais.jsonl --documents seeds --out reports/eval/calais
	$(BIN)/python -m rag.eval eval/squad2/dev.json --documents eval/squad2/dev --out reports/eval/squad2-dev
	$(BIN)/python -m rag.eval eval/squad2/train.json --documents eval/squad2/train \
		--out reports/eval/squad2-train
	$(BIN)/python -m rag.eval eval/followups/followups.jsonl --documents eval/followups/documents \
		--out reports/eval/followups

train: $(VENV)/.dev  ## refit the answer judge on training data only -> rag/models/judge (~6 min)
	$(BIN)/python -m training.calibrate

# The cross-encoder experiment (not shipped: it did not help; rag/models/judge/MODEL_CARD.md).
train-verifier: $(VENV)/.dev  ## train the optional verifier -> build/verifier (~25 min on 2 cores)
	$(BIN)/python -m training.train_verifier
	$(BIN)/python -m training.calibrate --with-verifier

llm: $(VENV)/.runtime  ## optional: local/hosted LLM answer modes (builds llama-cpp-python)
	$(BIN)/pip install --quiet -r requirements-llm.txt

bench: $(VENV)/.dev  ## benchmarks vs the LangChain tutorial pipeline -> docs/BENCHMARKS.md (hours)
	$(BIN)/python -m bench.run

bench-quick: $(VENV)/.dev  ## the seed article and 200 documents, side by side (a few minutes)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*/ .pytest_cache
