"""The HTTP endpoint of `linkctl watch --listen`: /metrics on bounded resources.

prometheus_client's own server starts a thread per connection and never times
one out: 200 idle connections held 205 threads. Here a fixed pool of workers
serves the connections, a connection has CONNECTION_TIMEOUT seconds for each
read and write, and one that finds every worker busy is closed at once (a
scraper tries again at its next interval; an idle client waits its turn out).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

from linkctl.errors import LinkctlError

log = logging.getLogger(__name__)

WORKERS = 4
CONNECTION_TIMEOUT = 5.0


class ListenError(LinkctlError):
    """The metrics address cannot be listened on."""


class _Handler(WSGIRequestHandler):
    timeout = CONNECTION_TIMEOUT  # StreamRequestHandler.setup applies it to the socket

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per scrape on stderr is noise in the journal


class BoundedWSGIServer(WSGIServer):
    """A WSGI server with at most `workers` connections in service at a time."""

    request_queue_size = 64

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, workers: int = WORKERS) -> None:
        self.address_family = family
        self.refused = 0
        self._slots = threading.BoundedSemaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="linkctl-metrics")
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            self.shutdown_request(request)
            return
        try:
            self._pool.submit(self._serve, request, client_address)
        except RuntimeError:  # the pool is shutting down with the server
            self._slots.release()
            self.shutdown_request(request)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as exc:
            # A client that went quiet (timeout) or away: not worth a traceback.
            log.debug("metrics connection from %s: %s", client_address, exc)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def listen(host: str, port: int, registry: CollectorRegistry, workers: int = WORKERS) -> BoundedWSGIServer:
    """Bind `host:port` (the text of --listen), or say why not in words a person can act on."""
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        server = BoundedWSGIServer((str(sockaddr[0]), port), family, workers)
    except OSError as exc:
        raise ListenError(_why(shown, port, exc)) from None
    server.set_app(make_wsgi_app(registry))
    return server


def _why(shown: str, port: int, exc: OSError) -> str:
    head = f"cannot serve metrics on --listen {shown}"
    if exc.errno == errno.EADDRINUSE:
        why = f"port {port} is already in use (another `linkctl watch`, or another exporter?)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "that address is not one of this host's"
    elif exc.errno == errno.EACCES:
        why = f"port {port} is below 1024: binding it needs root (CAP_NET_BIND_SERVICE)"
    else:
        why = exc.strerror or str(exc)
    return (
        f"{head}: {why}; choose another with --listen HOST:PORT (or `listen:` in watch.yaml), "
        "or serve no metrics with --listen ''"
    )
