"""Alert delivery on threads of its own, beside the watch loop: one per receiver."""

from __future__ import annotations

import logging
import threading
import time

from linkctl.alerts import AlertDispatcher
from linkctl.domain.down import DownSpell
from linkctl.domain.episodes import FlapEpisode
from linkctl.domain.events import now

log = logging.getLogger(__name__)


class AlertWorker:
    """Sends queued alerts from threads: a slow SMTP server must not delay events.

    Each receiver has its own thread and works its own rows of the queue: a receiver that
    answers late (a send blocks up to its timeout, 10 s) or not at all holds up no other.
    """

    def __init__(self, dispatcher: AlertDispatcher, every: float = 1.0) -> None:
        self.dispatcher = dispatcher
        self.every = every
        # What Alertmanager is re-sent as firing: open flap episodes and link-down spells.
        self.open_episodes: list[FlapEpisode | DownSpell] = []  # replaced (not mutated) by the loop
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(name,), name=f"linkctl-alerts-{name}", daemon=True)
            for name in dispatcher.receivers
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self, receiver: str) -> None:
        failing = False
        while not self._stop.wait(self.every):
            try:
                self.dispatcher.deliver_due(now(), receiver=receiver)
                self.dispatcher.resend_firing(self.open_episodes, now(), receiver=receiver)
            except Exception:  # a bug in one round must not end delivery for good
                # Once per failing spell: a full disk fails every round, every second.
                if not failing:
                    log.exception("alert delivery to %s failed", receiver)
                failing = True
            else:
                failing = False

    def stop(self) -> None:
        """Waits for the sends under way, 30 s in all: a send ends by its receiver's timeout."""
        self._stop.set()
        deadline = time.monotonic() + 30
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            return  # still in a round: the dispatcher is not this thread's to use
        try:  # a mark kept in memory is lost with the process: the alert would go out again
            self.dispatcher.flush()
        except Exception:
            log.exception("alert marks not written")
