"""The one logging set-up of every process the service starts.

The server (``wasteroute serve``), every other command, the benchmarks and each solver
worker process send their log records to stderr in the same format, so one log reads
the same whichever process wrote a line (stdout stays free for the commands' answers).
"""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send log records at ``level`` (``"info"``, ``"DEBUG"``, ...: any case) and above to stderr."""
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format=LOG_FORMAT)
