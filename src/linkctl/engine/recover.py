"""`linkctl recover`: roll back a change that was cut off before it was verified or rolled back.

After kill -9, an OOM kill or a crash of linkctl (or of a `try` guardian), the change
journal (engine/journal.py) is all that says what the links were: recover re-applies
that state, under the change lock, checks it (engine/rollback.py) and only then
removes the journal.
"""

from __future__ import annotations

from collections.abc import Callable

from linkctl.engine import journal
from linkctl.engine.changelock import changing_links
from linkctl.engine.rollback import settle
from linkctl.kernel.netlink import DebugHook

NOTHING, RECOVERED, FAILED = 0, 0, 4


def recover(
    netns: str | None, only_netns: bool, echo: Callable[[str], None], wait: float = 0, debug: DebugHook | None = None
) -> int:
    """Roll the cut-off change back; `only_netns`: only if it involves `netns`."""
    with changing_links("recover", wait) as held:
        intent = journal.read(held.rt)
        if intent is None:
            echo("nothing to recover: no change was cut off")
            return NOTHING
        if intent.stale:
            journal.finish(held.rt)
            echo(
                f"nothing to recover: {intent.summary()} was cut off before the last reboot; its links went "
                "with that boot (journal removed)"
            )
            return NOTHING
        if only_netns and not intent.involves([netns]):
            where = "the default namespace" if netns is None else f"netns {netns}"
            echo(f"nothing to recover in {where}: the change cut off was {intent.summary()}")
            return NOTHING
        echo(f"rolling back {intent.summary()}")
        outcome = settle(held.rt, intent, debug=debug, from_journal=True)
        echo(outcome.message)
        return RECOVERED if outcome.ok else FAILED
