"""Signals at random points of a two-namespace change (renames, moves, bridge ports, deletions, cross-
namespace pairs, a macvlan re-made): the namespaces must end as before, or as declared where linkctl
said so; after SIGKILL, `linkctl recover` must get them back. Usage: stress_two_ns.py SIG COUNT [SEED]
(run from the worktree as root, after tests/engine/repro/gen_scenarios.py; STRESS_DIR=/tmp/rv16/nsc STRESS_NEW_B=1 for
the change that makes its second namespace)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.engine.faults import Spawned, difference, links, run

A, B = "lkrv-a", "lkrv-b"
HERE = Path(os.environ.get("STRESS_DIR", "/tmp/rv16"))
NEW_B = os.environ.get("STRESS_NEW_B") == "1"  # B is made by the change (and must go with its rollback)


_MOVING = re.compile(r"timer|bridge_id|root_id|root_port|root_path_cost|designated|topology_change")


def _steady(ns: str) -> dict[str, dict[str, object]]:
    """links() less what a bridge's MAC and clocks move: its ids and timers."""
    seen = links(ns)
    for link in seen.values():
        info = link.get("linkinfo")
        if isinstance(info, dict) and isinstance(info.get("info_data"), dict):
            info["info_data"] = {k: v for k, v in info["info_data"].items() if not _MOVING.search(k)}
    return seen


def both() -> dict[str, object]:
    exists = subprocess.run(["ip", "netns", "pids", B], capture_output=True).returncode == 0
    return {A: _steady(A), B: _steady(B) if exists else None}


# `recover` names a link whose creation was in flight at the kill ("n6 (netns lkrv-a) may be the
# change's or another's ... left as it is"): nothing tells it from another process's, so it stays.
_LEFT_NAMED = re.compile(r"(\S+) \(netns (\S+)\) may be the change's or another's")


def without_named(now: dict[str, object], said: str) -> dict[str, object]:
    """`now` less the links recover named as left: what must then be as before."""
    left = {(ns, name) for name, ns in _LEFT_NAMED.findall(said)}
    return {
        ns: ({n: v for n, v in seen.items() if (ns, n) not in left} if isinstance(seen, dict) else seen)
        for ns, seen in now.items()
    }


def reset(rt: Path) -> None:
    for ns in (A, B):
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        if ns == A or not NEW_B:
            subprocess.run(["ip", "netns", "add", ns], check=True)
    res = run(["apply", str(HERE / "before.yml"), "-n", A], rt)
    assert res.returncode == 0, res.stderr


def main() -> None:
    sig = getattr(signal, sys.argv[1])
    count = int(sys.argv[2])
    rng = random.Random(sys.argv[3] if len(sys.argv) > 3 else "x")
    rt = Path(tempfile.mkdtemp())
    rt.chmod(0o700)
    reset(rt)
    before = both()
    t0 = time.monotonic()
    res = run(["apply", str(HERE / "change.yml"), "-n", A], rt)
    total = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    after = both()
    tally: dict[str, int] = {}
    bad = 0
    for i in range(count):
        reset(rt)
        delay = rng.uniform(0.05, total * 1.1)
        sp = Spawned(["apply", str(HERE / "change.yml"), "-n", A], rt)
        time.sleep(delay)
        sp.proc.send_signal(sig)
        code, said = sp.finish()
        rec = ""
        if sig == signal.SIGKILL:
            r = run(["recover"], rt)
            rec = r.stdout + r.stderr
            if r.returncode != 0:
                said += "\nRECOVER FAILED " + rec
        now = both()
        if now == before:
            kind = "before"
        elif now == after:
            kind = "after"
        elif without_named(now, rec) == before:
            kind = "before+named"
        else:
            kind = "NEITHER"
        text = said + rec
        ok = True
        if kind == "NEITHER" or "Traceback" in text or "ROLLBACK" in text or "internal error" in text:
            ok = False
        if kind == "after" and "rolled back" in text:
            ok = False
        if kind == "before" and "applied and verified" in text and "rolled back" not in text:
            ok = False
        if sig == signal.SIGKILL and (rt / "change.journal").exists():
            ok = False
        key = f"{kind}:{code}"
        tally[key] = tally.get(key, 0) + 1
        if not ok:
            bad += 1
            print(f"--- BAD #{i} delay {delay:.3f} exit {code} state {kind}\n{text[-3000:]}")
            if kind == "NEITHER":
                print(difference(now, before))
                print(difference(now, after))
            break
    for ns in (A, B):
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
    print(json.dumps({"signal": sys.argv[1], "runs": i + 1, "total_s": round(total, 3), "tally": tally, "bad": bad}))


if __name__ == "__main__":
    main()
