"""Beat's schedule comes from the registry: a real `celery beat` sends the periodic tasks the apps
registered (PeriodicTask items), with the schedule their settings give."""

import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from config.celery import app
from tests.conftest import subprocess_env
from tests.processes import CELERY, ROOT, stop

pytestmark = pytest.mark.e2e


def test_beat_sends_the_registered_periodic_tasks(tmp_path):
    schedule = tmp_path / "beat-schedule"
    command = [CELERY, "-A", "config", "beat", "-l", "info", "-s", schedule, "--max-interval", "1"]
    with tempfile.NamedTemporaryFile(prefix="hub-beat-", suffix=".log") as log:
        beat = subprocess.Popen(
            [str(part) for part in command],
            cwd=ROOT,
            env=subprocess_env(HUB_EVENTS_SWEEP_SECONDS="1"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            sent = "Sending due task events-sweep (apps.events.tasks.sweep_all_tenants)"
            while sent not in Path(log.name).read_text():
                assert beat.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
                time.sleep(0.2)
        finally:
            stop(beat)
            app.control.purge()  # no worker listens here: drop what beat sent
