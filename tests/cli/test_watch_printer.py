"""`linkctl watch`'s terminal printer (linkctl.cli.watch_printer)."""

from __future__ import annotations

from dataclasses import replace

from linkctl.cli.watch_printer import describe_event
from linkctl.domain.events import DriverWords, EventKind, EventSource, LinkEvent, LinkState
from tests.watch.helpers import at


def test_a_printed_event_names_the_driver_apart_from_the_log_s_words() -> None:
    ev = LinkEvent(at(1), "ns", "eth0", 7, EventKind.LINK_DOWN, LinkState.DOWN, EventSource.KMSG, 0)
    nic = describe_event(ev.with_driver(DriverWords(text="e1000e: eth0 NIC Link is Down", driver="e1000e")))
    assert nic.endswith("source=kmsg driver=e1000e log='e1000e: eth0 NIC Link is Down'")
    bridge = describe_event(
        replace(
            ev, kind=EventKind.BRIDGE_PORT_STATE, driver=DriverWords(text="br0: port 2(eth0) entered disabled state")
        )
    )
    assert "driver=" not in bridge and bridge.endswith("log='br0: port 2(eth0) entered disabled state'")


def test_the_host_namespace_is_printed_as_a_dash() -> None:
    ev = LinkEvent(at(1), None, "eth0", 7, EventKind.LINK_UP, LinkState.UP, EventSource.NETLINK, 1)
    assert describe_event(ev).split()[1:4] == ["-", "eth0", "link_up"]


def test_words_joined_later_name_the_link_not_the_store_key() -> None:
    from linkctl.cli.watch_printer import describe
    from linkctl.watch.core import WatchOutput

    ev = LinkEvent(at(1), "ns", "eth0", 3, EventKind.LINK_DOWN, LinkState.DOWN, EventSource.NETLINK, 1)
    words = DriverWords(text="e1000e: eth0 NIC Link is Down", driver="e1000e")
    (line,) = describe(WatchOutput(driver_updates=[(ev.with_driver(words), words)]))
    assert line.split()[1:4] == ["ns", "eth0", "link_down"]
    assert line.endswith("driver=e1000e log='e1000e: eth0 NIC Link is Down'")
    assert ev.key not in line and "joined to" not in line
