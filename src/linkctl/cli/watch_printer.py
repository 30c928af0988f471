"""What `linkctl watch` shows: one line per event on stdout, and a live table above them
on a terminal. The service loop (linkctl.watch.daemon) is handed one as its Display."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from linkctl.domain.down import DownNotice
from linkctl.domain.events import EventKind, LinkEvent, now
from linkctl.watch.core import WatchCore, WatchOutput

if TYPE_CHECKING:
    from rich.table import Table


def describe_event(ev: LinkEvent) -> str:
    parts = [ev.time.isoformat(timespec="microseconds"), ev.netns or "-", ev.ifname, ev.kind.value]
    if ev.kind.is_carrier:
        parts.append(f"transitions={ev.transitions}")
    if ev.carrier is not None:
        parts.append(f"carrier_changes={ev.carrier.changes}")
    parts.append(f"source={ev.source.value}")
    if ev.detail is not None:
        key = {EventKind.RENAMED: "from", EventKind.MOVED: "to"}.get(ev.kind, "why")
        parts.append(f"{key}={ev.detail or '-'}" if key != "why" else f"why={ev.detail!r}")
    if ev.driver is not None and ev.driver.text:
        if ev.driver.driver:
            parts.append(f"driver={ev.driver.driver}")
        parts.append(f"log={ev.driver.text!r}")  # the kernel log's own words (a driver's, a bridge's)
    return " ".join(parts)


def describe(out: WatchOutput) -> Iterator[str]:
    yield from (describe_event(ev) for ev in out.events)
    for event, words in out.driver_updates:  # the kernel log's words for an event already printed
        yield f"{now().isoformat(timespec='microseconds')} {event.netns or '-'} {event.ifname} {event.kind.value} " + (
            f"driver={words.driver} log={words.text!r}" if words.driver else f"log={words.text!r}"
        )
    for notice in out.notices:
        if isinstance(notice, DownNotice):
            spell = notice.spell
            why = f" why={spell.ended_by!r}" if spell.ended_by else ""
            yield (
                f"{(spell.end or spell.fired).isoformat(timespec='microseconds')} {spell.netns or '-'} "
                f"{spell.ifname} link_down_{notice.edge.value} down_seconds={spell.down_seconds():.3f}{why}"
            )
            continue
        ep = notice.episode
        yield (
            f"{(ep.cleared_at or ep.start).isoformat(timespec='microseconds')} {ep.netns or '-'} {ep.ifname} "
            f"flap_{notice.edge.value} transitions={ep.transitions} down_seconds={ep.down_seconds:.3f} "
            f"trigger={ep.trigger.value}"
        )
    for netns in out.resyncs:
        yield f"{now().isoformat(timespec='microseconds')} {netns or '-'} resync after ENOBUFS"


class Printer:
    """One line per event on stdout; a live table above them on a terminal."""

    def __init__(self, stream: TextIO, core: WatchCore, live: bool) -> None:
        self.stream = stream
        self.core = core
        self._live = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=stream), auto_refresh=False)
            self._live.start()

    def show(self, out: WatchOutput) -> None:
        lines = list(describe(out))
        if lines:
            self._emit(lines)

    def note(self, text: str) -> None:
        self._emit([f"{now().isoformat(timespec='microseconds')} {text}"])

    def _emit(self, lines: list[str]) -> None:
        if self._live is not None:
            for line in lines:
                self._live.console.print(line, markup=False, highlight=False)
            return
        try:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            pass  # nobody reads stdout any more: the store still has everything

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)

    def _table(self) -> Table:
        from rich.table import Table

        table = Table(title="linkctl watch", expand=False)
        for column in ("netns", "link", "state", "since", "carrier changes", "flapping now"):
            table.add_column(column)
        views = sorted(self.core.views(), key=lambda v: v.link.since, reverse=True)[:40]
        for view in views:
            link = view.link
            changes = "" if link.counters is None else str(link.counters.changes)
            since = link.since.astimezone().strftime("%H:%M:%S")
            table.add_row(
                link.netns or "-", link.ifname, link.state.label, since, changes, "yes" if view.flapping else ""
            )
        return table

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
