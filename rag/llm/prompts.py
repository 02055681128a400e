"""Untrusted text inside our prompts: the tags that delimit it, and defanging look-alikes.

The answer prompt (:mod:`rag.answering.generate`) and the judge prompt (:mod:`rag.eval.judge`)
quote documents, questions and answers as data between tags (``<passages>``,
``<passage id="n">``, ``<question>``, ``<answer>``) and tell the model that nothing
inside them is an instruction. A document that writes ``</passages>`` itself could end
the quoted data early and speak as the prompt; :func:`defang` turns the ``<`` of
anything that looks like one of these tags into ``‹`` so that only our own tags delimit.

This module does not build prompts or call a model.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

# "<passage", "</passages", "< / question", "<ANSWER"...: every tag either prompt uses.
_TAG = re.compile(r"<(\s*/?\s*(?:passages?|question|answer)\b)", re.I)


def defang(text: str) -> str:
    """*text* with every opening of a prompt tag (``<passage``, ``</answer``...) as ``‹``."""
    return _TAG.sub(r"‹\1", text)
