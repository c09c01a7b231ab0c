"""Ctrl+C stops a test run: it must not stop only the app a test is serving (uvicorn would take
the signal for itself) while the run goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("interrupt_probe.py")  # not test_*.py: collected only when named


def test_ctrl_c_stops_the_run(tmp_path):
    env = {**os.environ, "AGENDUM_INTERRUPT_PROBE": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "sqlite or after", str(PROBE)],
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "serving").exists():
            assert process.poll() is None and time.monotonic() < deadline, (
                process.stdout.read() if process.poll() is not None else "not serving"
            )
            time.sleep(0.05)  # a subprocess's progress: polled, bounded
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output  # pytest's own clean stop
    assert "KeyboardInterrupt" in output and "never retrieved" not in output, output
    assert not (tmp_path / "went-on").exists(), output
