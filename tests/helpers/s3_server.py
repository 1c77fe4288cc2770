"""A real S3 server for tests: moto's, in its own process on a free port of 127.0.0.1.

Usage::

    from tests.helpers.s3_server import S3Server

    with S3Server() as s3:
        boto3.client("s3", endpoint_url=s3.endpoint, ...)

It is a separate server, as MinIO would be: requests go over HTTP, and ``stop()`` takes it away
(what a storage outage looks like to the client). The fake credentials a client needs are in
``FAKE_CREDENTIALS``; the ``s3`` fixture in tests/conftest.py sets them for one test.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from tests.helpers.processes import free_port, stop_process

# Moto accepts any key; these are not real credentials anywhere.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "castmill-test-key", "AWS_SECRET_ACCESS_KEY": "castmill-test-secret"}


class S3Server:
    """Start/stop ``python -m moto.server`` on 127.0.0.1. Also a context manager."""

    def __init__(self, startup_timeout: float = 30.0):
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        # Moto logs every request; an unread pipe would fill after a few thousand and block the server.
        self._log = tempfile.TemporaryFile()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3Server":
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=self._log)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"moto's S3 server exited at start: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto's S3 server did not answer on {self.endpoint} within {self.startup_timeout} s")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer: it is serving
        except OSError:
            return False

    def reset(self) -> None:
        """Forget every bucket and object."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=5).close()

    def log_tail(self, chars: int = 500) -> str:
        size = os.fstat(self._log.fileno()).st_size  # pread: the server shares the file's offset
        start = max(0, size - chars * 4)
        return os.pread(self._log.fileno(), size - start, start).decode(errors="replace")[-chars:]

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> "S3Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
