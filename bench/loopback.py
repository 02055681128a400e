"""Loopback ports and Debian's headless Chromium, for the benchmarks and the tests.

One place knows how Chromium is launched here (``playwright install`` cannot download
browsers on these machines, so the system binary is driven through playwright with
the flags that keep it quiet and offline). It starts no server and opens no page.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, through a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
