#!/usr/bin/env python3
"""The link codec's hot paths on real messages, with pyroute2's decoder side by side.

A fresh namespace gets N veth pairs, a bridge with two of them as ports, a VXLAN and a
macvlan; a socket subscribed to its link events records the kernel's RTM_NEWLINK messages
while the pairs are made, brought up and taken down. Then, on those same bytes:

- fingerprint: the receipt's fingerprint of one dump (`linkdump.Fingerprinter`, shapes learned);
- learned decode: one dump decoded into links (`linkshape.LinkDecoder`, shapes learned), without
  the counters (what plan and verification read) and with them (`show --stats`);
- per-message decode: the watcher's feed, `rtnl.decode_link(buf, start, end, netns)` on 10,000
  event messages one by one, as received: in a fresh process (whatever is learned, included),
  and again (the quickest of 5 passes, as the two figures above);
- encode: the requests that make N veth pairs (MTU, txqueuelen, up, the peer's own) and set an
  MTU and alias on each link (`rtnl.new_link`, `veth_peer`, `set_link`);
- pyroute2's `ifinfmsg.decode()` of 1,000 of those messages, the reference.

Each figure is the CPU time of this process (the machine may be shared: time spent waiting for
a CPU is not the code's), the median of R rounds, each round a fresh process per checkout. With
`--against DIR`, a second checkout's code (its src/) decodes the same messages, rounds
alternated: the figures before and after a change, same run.

usage: bench/link_codec.py [--rounds R] [--pairs N] [--against DIR]   (root; N defaults to 1000, R to 5)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE.parent / ".venv" / "bin"
PYTHON = str(VENV / "python") if (VENV / "python").exists() else sys.executable
EVENTS = 10_000
REFERENCE = 1_000


def capture(ns: str, pairs: int, tmp: Path) -> dict[str, object]:
    """The dumps (with and without counters) and the event buffers of a namespace made for it."""
    from linkctl.kernel import linkdump, netns
    from linkctl.kernel import rtnl_const as C

    subprocess.run(["ip", "netns", "add", ns], check=True)
    with netns.entered(ns):
        events = linkdump.RouteSocket(groups=C.RTMGRP_LINK, rcvbuf=256 << 20, blocking=False)
    make = [f"link add v{i} mtu 9000 type veth peer name p{i}" for i in range(pairs)]
    make += ["link add br0 type bridge", "link set v0 master br0", "link set v1 master br0"]
    make += [
        "link add vx42 type vxlan id 42 dev br0 remote 192.0.2.10 dstport 4789",
        "link add mv0 link p0 type macvlan",
    ]
    up = [f"link set dev {p}{i} up" for i in range(pairs) for p in "vp"]
    down = [f"link set dev v{i} down" for i in range(pairs)]
    buffers: list[bytes] = []
    for step, lines in (("make", make), ("up", up), ("down", down), ("up2", up)):
        path = tmp / f"{step}.batch"
        path.write_text("\n".join(lines) + "\n")
        subprocess.run(["ip", "-n", ns, "-batch", str(path)], check=True)
        buffers += drain(events)
    events.close()
    time.sleep(1.5)  # linkwatch's late notifications
    dumps = {}
    with netns.entered(ns):
        for stats in (False, True):
            with linkdump.RouteSocket() as sock:
                dumps[stats] = sock.dump_messages(1, stats)
    return {"dumps": dumps, "events": trim(buffers, EVENTS), "pairs": pairs}


def drain(sock: object) -> list[bytes]:
    out = []
    quiet = 0
    while quiet < 20:
        try:
            out.append(sock.recv(1 << 20))  # type: ignore[attr-defined]
            quiet = 0
        except BlockingIOError:
            quiet += 1
            time.sleep(0.05)
    return out


def trim(buffers: list[bytes], count: int) -> list[bytes]:
    """The first `count` RTM_NEWLINK messages, each buffer as received (cut after the last one kept)."""
    from linkctl.nla import iter_messages

    out, seen = [], 0
    for buf in buffers:
        for mtype, _f, _s, _start, end in iter_messages(buf):
            seen += mtype == 16
            if seen == count:
                out.append(buf[:end])
                return out
        out.append(buf)
    raise SystemExit(f"only {seen} link events recorded; more pairs are needed (--pairs)")


def measure(path: str) -> dict[str, float]:
    """One round, in this process: the figures in seconds."""
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    from linkctl.kernel import linkdump, rtnl
    from linkctl.kernel.linkshape import LinkDecoder
    from linkctl.nla import iter_messages

    out: dict[str, float] = {}
    dump, dump_stats = data["dumps"][False], data["dumps"][True]
    events = [(buf, s, e) for buf in data["events"] for t, _f, _q, s, e in iter_messages(buf) if t == 16]

    def one_by_one() -> None:
        for buf, s, e in events:
            rtnl.decode_link(buf, s, e, "ns")

    t0 = time.process_time()
    one_by_one()
    out["events_first"] = time.process_time() - t0
    out["events_again"] = best(one_by_one)
    printer = linkdump.Fingerprinter()
    printer.fingerprints(dump)
    out["fingerprint"] = best(lambda: printer.fingerprints(dump))
    for stats, msgs, key in ((False, dump, "decode"), (True, dump_stats, "decode_stats")):
        decoder = LinkDecoder(stats)
        for m in msgs:
            decoder.decode(m, "ns")
        out[key] = best(lambda d=decoder, ms=msgs: [d.decode(m, "ns") for m in ms])
    out["encode"] = best(lambda: encode(data["pairs"]))
    out["links"] = len(dump)
    out["pairs"] = data["pairs"]
    out["events"] = len(events)
    return out


def encode(pairs: int) -> None:
    from linkctl.kernel.rtnl import LinkAttrs, new_link, set_link, veth_peer

    for i in range(pairs):
        peer = veth_peer(LinkAttrs(name=f"p{i}", mtu=9000, txqlen=2000, up=True))
        new_link(2 * i, LinkAttrs(name=f"v{i}", mtu=9000, txqlen=2000, up=True), "veth", b"", peer)
        set_link(2 * i + 1, i + 1, LinkAttrs(mtu=1500, alias=f"pair {i}"))
        set_link(2 * i + 1, i + 2, LinkAttrs(mtu=1500, alias=f"pair {i}"))


def reference(path: str) -> float:
    """pyroute2's decode of the first 1,000 event messages, in seconds."""
    import logging

    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    from linkctl.nla import iter_messages

    logging.disable(logging.CRITICAL)
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    events = [buf[s - 16 : e] for buf in data["events"] for t, _f, _q, s, e in iter_messages(buf) if t == 16]
    t0 = time.process_time()
    for msg in events[:REFERENCE]:
        ifinfmsg(msg).decode()
    return time.process_time() - t0


def best(run: object, times: int = 5) -> float:
    """The quickest of a few runs: a dump's decode is a few milliseconds, noise is of that size."""
    spans = []
    for _ in range(times):
        t0 = time.process_time()
        run()  # type: ignore[operator]
        spans.append(time.process_time() - t0)
    return min(spans)


def child(path: str, src: str | None) -> dict[str, float]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if src is not None:
        env["PYTHONPATH"] = src  # ahead of the editable install's path: that checkout's code
    out = subprocess.run([PYTHON, __file__, "--measure", path], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--against", help="another checkout whose code decodes the same messages")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    ns = f"bench-dec-{os.getpid()}"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        try:
            data = capture(ns, args.pairs, tmp)
        finally:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        path = str(tmp / "messages.pickle")
        with open(path, "wb") as fh:
            pickle.dump(data, fh)
        checkouts: dict[str, str | None] = {"this": None}
        if args.against:
            checkouts = {"against": str(Path(args.against) / "src"), "this": str(HERE.parent / "src")}
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
        for _ in range(args.rounds):
            for name, src in checkouts.items():
                rounds[name].append(child(path, src))
        ref = statistics.median(reference(path) for _ in range(3))
    report(rounds, ref, args.rounds)


def report(rounds: dict[str, list[dict[str, float]]], ref: float, count: int) -> None:
    first = next(iter(rounds.values()))[0]
    links, events = int(first["links"]), int(first["events"])
    print(f"{links} links, {events} RTM_NEWLINK events; medians of {count} rounds (and the best round), ms")
    rows = (
        ("fingerprint", f"fingerprint of {links} links"),
        ("decode", f"learned decode of {links} links"),
        ("decode_stats", f"learned decode of {links} links, counters"),
        ("events_first", f"decode_link of {events} events, fresh process"),
        ("events_again", f"decode_link of {events} events, again"),
        ("encode", f"encode the requests of {int(first['pairs'])} pairs"),
    )
    names = list(rounds)
    print(f"  {'':46}" + "".join(f"{n + ' (best)':>18}" for n in names))
    for key, label in rows:
        values = [(statistics.median(r[key] for r in rounds[n]), min(r[key] for r in rounds[n])) for n in names]
        print(f"  {label:46}" + "".join(f"{m * 1000:10.1f} ({b * 1000:5.1f})" for m, b in values))
    per = statistics.median(r["events_again"] for r in rounds[names[-1]]) / events
    print(f"  pyroute2 ifinfmsg.decode(), per message: {ref / REFERENCE * 1e6:.1f} us against {per * 1e6:.1f} us")


if __name__ == "__main__":
    main()
