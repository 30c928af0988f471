"""Requests sent ahead on a thread while the next are encoded (kernel/netlink.py Pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkctl.engine import executor as executor_mod
from linkctl.engine.apply import ApplyFailed, Context, apply, prepare
from linkctl.engine.executor import Executor
from linkctl.errors import LinkctlError
from linkctl.kernel import rtnl
from linkctl.kernel.netlink import RtnlSocket
from linkctl.kernel.rtnl import LinkAttrs
from linkctl.model.load import parse_text
from linkctl.plan.ops import SetMaster
from tests.conftest import ip


def names(ns: str) -> set[str]:
    return {str(d["ifname"]) for d in json.loads(ip("-n", ns, "-j", "link", "show"))}


def veth(sock: RtnlSocket, name: str) -> bytes:
    peer = rtnl.veth_peer(LinkAttrs(name=name + "p"))
    return rtnl.new_link(sock.next_seq(), LinkAttrs(name=name), "veth", b"", peer)


def test_nothing_is_sent_after_a_chunk_with_a_refusal(netns: str) -> None:
    with RtnlSocket(netns) as sock:
        pipeline = sock.pipeline()
        pipeline.submit([veth(sock, "a0"), veth(sock, "a0")])  # the second: File exists
        pipeline.submit([veth(sock, "b0")])
        acks = pipeline.finish()
    assert [ack.errno for ack in acks] == [0, 17]
    assert pipeline.refused
    assert names(netns) == {"lo", "a0", "a0p"}  # b0 was never sent


class Listener:
    """Records what the socket prints under --debug."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def __call__(self, kind: str, _msg: bytes) -> None:
        self.kinds.append(kind)


@pytest.mark.parametrize("debug", [False, True])
def test_a_refusal_mid_chunk_is_pinned_on_its_own_request(netns: str, debug: bool) -> None:
    """Only the chunk's last request is acknowledged (under --debug all are); a refusal is reported anyway."""
    listener = Listener()
    with RtnlSocket(netns, debug=listener if debug else None) as sock:
        acks = sock.batch([veth(sock, "c0"), veth(sock, "c1"), veth(sock, "c0"), veth(sock, "c2")])
    assert [ack.errno for ack in acks] == [0, 0, 17, 0]
    assert [ack.seq for ack in acks] == [1, 2, 3, 4]
    assert names(netns) == {"lo", "c0", "c0p", "c1", "c1p", "c2", "c2p"}  # the kernel went on after the refusal
    if debug:
        assert listener.kinds.count("ack") == 4


def test_a_refused_last_request_ends_its_chunk(netns: str) -> None:
    with RtnlSocket(netns) as sock:
        acks = sock.batch([veth(sock, "d0"), veth(sock, "d0")])
    assert [ack.errno for ack in acks] == [0, 17]
    assert "File exists" in acks[1].describe()


def many_pairs(n: int) -> str:
    lines = ["interfaces:"]
    for i in range(n):
        lines.append(f"- {{name: v{i}, type: veth, mtu: 9000, state: up, veth: {{peer: p{i}}}}}")
    return "\n".join(lines) + "\n"


def test_a_refusal_after_many_chunks_rolls_back_every_chunk(
    netns: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(executor_mod, "PIPELINE_CHUNK", 400)  # a chunk every few requests
    ctx = Context(parse_text(many_pairs(30), "d.yml"), "d.yml", netns)
    host, plan = prepare(ctx)
    last = plan.ops[-1].name
    ip("-n", netns, "link", "add", last, "type", "veth", "peer", "name", "other")  # made behind our back
    before = names(netns)
    with pytest.raises(ApplyFailed, match="File exists") as info:
        apply(ctx, host, plan)
    assert "rolled back" in str(info.value)
    assert names(netns) == before == {"lo", last, "other"}


def test_requests_already_sent_are_recorded_when_linkctl_itself_fails(
    netns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor_mod, "PIPELINE_CHUNK", 200)
    ctx = Context(parse_text(many_pairs(10), "d.yml"), "d.yml", netns)
    host, plan = prepare(ctx)
    ops = [*plan.ops, SetMaster(name="v0", netns=netns, master="no-such-bridge")]
    executor = Executor(host)
    with pytest.raises(LinkctlError, match="no link named no-such-bridge"):
        executor.run(ops)
    # Nothing more is sent once linkctl has failed (chunks still queued are dropped), and what was
    # sent is recorded: the acknowledged creates are exactly the links the kernel now has.
    assert executor.done == plan.ops[: len(executor.done)]
    made = {op.name for op in executor.done} | {f"p{op.name[1:]}" for op in executor.done}
    assert names(netns) == {"lo"} | made


def test_apply_rolls_back_when_linkctl_itself_fails_half_way(netns: str) -> None:
    ctx = Context(parse_text(many_pairs(10), "d.yml"), "d.yml", netns)
    host, plan = prepare(ctx)
    plan.ops.append(SetMaster(name="v0", netns=netns, master="no-such-bridge"))  # a planner bug, say
    with pytest.raises(ApplyFailed, match="no link named no-such-bridge") as info:
        apply(ctx, host, plan)
    assert "rolled back" in str(info.value)
    assert names(netns) == {"lo"}


def test_a_failing_debug_hook_half_way_rolls_back_too(netns: str) -> None:
    seen: list[str] = []

    def hook(what: str, data: bytes) -> None:
        seen.append(what)
        if len(seen) == 6:  # once, half-way through the creates; the rollback's calls pass
            raise RuntimeError("hook broke")

    ctx = Context(parse_text(many_pairs(10), "d.yml"), "d.yml", netns, debug=hook)
    host, plan = prepare(ctx)
    with pytest.raises(ApplyFailed, match="internal error: RuntimeError: hook broke") as info:
        apply(ctx, host, plan)
    assert "rolled back" in str(info.value)
    assert names(netns) == {"lo"}


def test_deletions_in_a_row_are_one_batch_that_spares_a_link_already_in_the_group(netns: str, tmp_path: Path) -> None:
    from linkctl.engine.executor import DELETE_GROUP

    ctx = Context(parse_text(many_pairs(20), "d.yml"), "d.yml", netns)
    host, plan = prepare(ctx)
    apply(ctx, host, plan)
    gone = "interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, state: absent}}\n" for i in range(20))
    ctx = Context(parse_text(gone, "g.yml"), "g.yml", netns)
    host, plan = prepare(ctx)
    result = apply(ctx, host, plan)
    assert result.requests == 21  # 20 links put in the group, one request deletes the group
    assert names(netns) == {"lo"}
    # A link someone put in that very group before: the batch would take it too, so none is made.
    ip("-n", netns, "link", "add", "keep0", "type", "veth", "peer", "name", "keep1")
    ip("-n", netns, "link", "set", "keep0", "group", str(DELETE_GROUP))
    ctx = Context(parse_text(many_pairs(3), "d.yml"), "d.yml", netns)
    host, plan = prepare(ctx)
    apply(ctx, host, plan)
    ctx = Context(parse_text(gone, "g.yml"), "g.yml", netns)  # v0-v2 exist, the rest are absent already
    host, plan = prepare(ctx)
    result = apply(ctx, host, plan)
    assert result.requests == 3  # one each
    assert names(netns) == {"lo", "keep0", "keep1"}
