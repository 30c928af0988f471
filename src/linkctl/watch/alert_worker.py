"""Alert delivery on its own thread, beside the watch loop."""

from __future__ import annotations

import logging
import threading

from linkctl.alerts import AlertDispatcher
from linkctl.domain.episodes import FlapEpisode
from linkctl.domain.events import now

log = logging.getLogger(__name__)


class AlertWorker:
    """Sends queued alerts from a thread: a slow SMTP server must not delay events."""

    def __init__(self, dispatcher: AlertDispatcher, every: float = 1.0) -> None:
        self.dispatcher = dispatcher
        self.every = every
        self.open_episodes: list[FlapEpisode] = []  # replaced (not mutated) by the loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linkctl-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.every):
            try:
                self.dispatcher.deliver_due(now())
                self.dispatcher.resend_firing(self.open_episodes, now())
            except Exception:  # a bug in one round must not end delivery for good
                # Once per failing spell: a full disk fails every round, every second.
                if not failing:
                    log.exception("alert delivery failed")
                failing = True
            else:
                failing = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if self._thread.is_alive():
            return  # still in a round: the dispatcher is not this thread's to use
        try:  # a mark kept in memory is lost with the process: the alert would go out again
            self.dispatcher.flush()
        except Exception:
            log.exception("alert marks not written")
