"""Which link is which across a restart: a namespace re-created under the same name, a namespace
gone while nobody watched, links outside a narrower --iface."""

from __future__ import annotations

from linkctl.domain.events import EventKind, EventSource, KnownLink
from linkctl.watch.core import HOST_RESTARTED, NAMESPACE_REPLACED, DumpReason, WatchCore, WatchOutput

from .helpers import msg

OLD, NEW = "boot/cookie:1", "boot/cookie:2"  # one boot, two namespaces


def _known(*links: tuple[int, str], netns_id: str | None = OLD, globs: tuple[str, ...] = ("*",)) -> list[KnownLink]:
    """What a first watcher of namespace blue leaves in the store."""
    core = WatchCore(iface_globs=globs)
    dump = [msg(0, 1, 0, ifindex=i, ifname=name, netns="blue") for i, name in links]
    out = core.on_dump("blue", dump, dump[0].time, DumpReason.STARTUP, netns_id)
    return out.links


def _events(out: WatchOutput) -> list[tuple[str, EventKind, int, str | None]]:
    return [(e.ifname, e.kind, e.transitions, e.detail) for e in out.events]


def test_a_namespace_recreated_under_its_name_is_a_new_one() -> None:
    core = WatchCore(known=_known((2, "old1")))
    new1 = msg(50, 11, 11, carrier=True, ifindex=2, ifname="new1", netns="blue")  # the same ifindex
    out = core.on_dump("blue", [new1], new1.time, DumpReason.STARTUP, NEW)
    assert _events(out) == [
        ("old1", EventKind.LINK_REMOVED, 0, NAMESPACE_REPLACED),
        ("new1", EventKind.LINK_ADDED, 0, None),
        ("new1", EventKind.GAP, 22, None),
    ]
    assert [g.ifname for g in out.gone] == ["old1"]
    assert [(k.ifname, k.netns_id) for k in out.links] == [("new1", NEW)]
    assert out.links[0].epoch != out.gone[0].epoch  # the store keys their events apart


def test_after_a_reboot_the_links_of_the_boot_before_are_removed_as_such() -> None:
    """The boot's id is part of a namespace's identity: after a reboot the host's namespace is a new
    one, and its links were said to be removed by a "namespace re-created"."""
    core = WatchCore(known=_known((2, "eth0")))
    again = msg(50, 2, 1, carrier=True, ifindex=2, ifname="eth0", netns="blue")
    out = core.on_dump("blue", [again], again.time, DumpReason.STARTUP, "boot2/cookie:1")
    assert _events(out) == [
        ("eth0", EventKind.LINK_REMOVED, 0, HOST_RESTARTED),
        ("eth0", EventKind.LINK_ADDED, 0, None),
        ("eth0", EventKind.GAP, 3, None),
    ]


def test_the_same_namespace_keeps_its_links_and_their_renames() -> None:
    core = WatchCore(known=_known((2, "old1")))
    renamed = msg(50, 3, 2, ifindex=2, ifname="new1", netns="blue")
    out = core.on_dump("blue", [renamed], renamed.time, DumpReason.STARTUP, OLD)
    assert _events(out) == [("new1", EventKind.RENAMED, 0, "old1"), ("new1", EventKind.GAP, 4, None)]


def test_a_store_from_before_identities_adopts_the_namespace() -> None:
    core = WatchCore(known=_known((2, "old1"), netns_id=None))
    again = msg(50, 1, 0, ifindex=2, ifname="old1", netns="blue")
    out = core.on_dump("blue", [again], again.time, DumpReason.STARTUP, NEW)
    assert out.events == [] and [k.netns_id for k in out.links] == [NEW]


def test_a_namespace_gone_removes_its_links_saying_why() -> None:
    core = WatchCore(known=_known((2, "ng1"), (3, "ng1p")))
    out = core.namespace_gone("blue", msg(50, 1, 0).time, "namespace gone", EventSource.RESYNC)
    assert sorted(_events(out)) == [
        ("ng1", EventKind.LINK_REMOVED, 0, "namespace gone"),
        ("ng1p", EventKind.LINK_REMOVED, 0, "namespace gone"),
    ]
    assert {e.source for e in out.events} == {EventSource.RESYNC}
    assert core.views() == []


def test_links_outside_a_narrower_glob_are_unwatched_not_removed() -> None:
    known = _known((2, "gx1"), (3, "gy1"))
    narrow = WatchCore(known=known, iface_globs=["gx*"])
    dump = [msg(50, 1, 0, ifindex=2, ifname="gx1", netns="blue"), msg(50, 6, 5, ifindex=3, ifname="gy1", netns="blue")]
    out = narrow.on_dump("blue", dump, dump[0].time, DumpReason.STARTUP, OLD)
    assert out.events == [] and out.gone == []
    assert [v.link.ifname for v in narrow.views()] == ["gx1"]
    wide = WatchCore(known=known)  # the store still has gy1 as the first watcher left it
    out = wide.on_dump("blue", dump, dump[0].time, DumpReason.STARTUP, OLD)
    assert _events(out) == [("gy1", EventKind.GAP, 10, None)]


def test_an_unwatched_link_renamed_into_the_glob_is_the_same_link() -> None:
    core = WatchCore(known=_known((3, "gy1")), iface_globs=["gx*"])
    renamed = msg(50, 1, 0, ifindex=3, ifname="gx3", netns="blue")
    out = core.on_dump("blue", [renamed], renamed.time, DumpReason.STARTUP, OLD)
    assert _events(out) == [("gx3", EventKind.RENAMED, 0, "gy1")]


def test_an_unwatched_link_deleted_leaves_the_store_without_an_event() -> None:
    core = WatchCore(known=_known((2, "gx1"), (3, "gy1")), iface_globs=["gx*"])
    out = core.on_link_gone("blue", 3, msg(50, 1, 0).time)
    assert out.events == [] and [g.ifname for g in out.gone] == ["gy1"]
