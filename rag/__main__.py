"""``python -m rag``: see :mod:`rag.interfaces.cli`."""

import sys

from rag.interfaces.cli import main

if __name__ == "__main__":
    sys.exit(main())
