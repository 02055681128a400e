"""``python -m rag.eval``: see :mod:`rag.eval.cli`."""

import sys

from rag.eval.cli import main

if __name__ == "__main__":
    sys.exit(main())
