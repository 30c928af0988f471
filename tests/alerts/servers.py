"""Real receivers for the alert tests, all on 127.0.0.1 and stopped by their fixtures."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from linkctl.alerts import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from tests.helpers.processes import stop


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_serving(handler: Any, **options: Any) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 handing mail to `handler`, while the block runs: its port."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class HookLog:
    secret: bytes
    received: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    bad_signatures: int = 0


@contextmanager
def webhook_receiver(secret: bytes, port: int = 0) -> Iterator[tuple[str, HookLog]]:
    """An http.server that accepts only correctly signed POSTs."""
    log = HookLog(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(log.secret, body, self.headers.get(SIGNATURE_HEADER)):
                log.bad_signatures += 1
                self.send_response(401)
                self.end_headers()
                return
            log.received.append(json.loads(body))
            log.deliveries.append(self.headers.get(DELIVERY_HEADER, ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], tries: int = 300) -> None:
    """Poll until `url` answers 200; bounded, and fails early if the process died."""
    for _ in range(tries):
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


@contextmanager
def running(argv: list[str], ready_url: str, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (workdir / "process.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        wait_http_ok(ready_url, proc)
        yield proc
    finally:
        stop(proc, timeout=20)
        log.close()


@contextmanager
def alertmanager(binary: str) -> Iterator[str]:
    work = Path(tempfile.mkdtemp(prefix="linkctl-am-"))
    try:
        (work / "am.yml").write_text(
            "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n", encoding="utf-8"
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [
            binary,
            f"--config.file={work / 'am.yml'}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ]
        with running(argv, f"{base}/-/ready", work):
            yield base
    finally:
        shutil.rmtree(work, ignore_errors=True)
