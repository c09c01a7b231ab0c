"""Run by tests/test_interrupt.py only (its name keeps it out of the suite): a test serving
requests until interrupted, and one that must never start after the interrupt."""

from __future__ import annotations

import os
from pathlib import Path

FLAGS = Path(os.environ["AGENDUM_INTERRUPT_PROBE"])


async def test_serving(api):
    (FLAGS / "serving").touch()
    while True:  # until interrupted
        assert (await api.client.get("/healthz")).status_code == 200


def test_after():
    (FLAGS / "went-on").touch()
