"""kill -9 of an apply, then kill -9 of the `recover` that follows (and of a rollback after SIGTERM),
at random points; a last `recover` must bring the namespace back as before and say so.
Usage: stress_recover_killed.py COUNT [SEED] (root, from the worktree, after tests/engine/repro/gen_scenarios.py)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.engine.faults import Spawned, difference, links, run

NS = "lkrv-k"
HERE = Path("/tmp/rv16")


def reset(rt: Path) -> None:
    subprocess.run(["ip", "netns", "del", NS], check=False, capture_output=True)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            NS,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ],
        check=True,
    )
    res = run(["apply", str(HERE / "p1500.yml"), "-n", NS], rt)
    assert res.returncode == 0, res.stderr


def main() -> None:
    count = int(sys.argv[1])
    rng = random.Random(sys.argv[2] if len(sys.argv) > 2 else "k")
    rt = Path(tempfile.mkdtemp())
    rt.chmod(0o700)
    reset(rt)
    before = links(NS)
    t0 = time.monotonic()
    assert run(["apply", str(HERE / "p9000.yml"), "-n", NS], rt).returncode == 0
    total = time.monotonic() - t0
    after = links(NS)
    tally: dict[str, int] = {}
    for i in range(count):
        reset(rt)
        log = []
        sp = Spawned(["apply", str(HERE / "p9000.yml"), "-n", NS], rt)
        time.sleep(rng.uniform(0.1, total))
        if rng.random() < 0.5:  # SIGTERM first: kill -9 lands in the rollback
            sp.proc.send_signal(signal.SIGTERM)
            time.sleep(rng.uniform(0, total / 2))
        sp.proc.send_signal(signal.SIGKILL)
        code, said = sp.finish()
        log.append(f"apply exit {code}: {said[-600:]}")
        for _ in range(rng.randint(0, 2)):  # recovers killed half-way
            rp = Spawned(["recover"], rt)
            time.sleep(rng.uniform(0.2, total * 1.2))
            rp.proc.send_signal(signal.SIGKILL)
            c, s = rp.finish()
            log.append(f"killed recover exit {c}: {s[-600:]}")
        r = run(["recover"], rt)
        log.append(f"recover exit {r.returncode}: {(r.stdout + r.stderr)[-800:]}")
        now = links(NS)
        kind = "before" if now == before else "after" if now == after else "NEITHER"
        text = "\n".join(log)
        bad = (
            kind == "NEITHER"
            or r.returncode != 0
            or "Traceback" in text
            or "internal error" in text
            or (kind == "after" and "rolled back" in r.stdout)
            or (rt / "change.journal").exists()
        )
        tally[kind] = tally.get(kind, 0) + 1
        if bad:
            print(f"--- BAD #{i} state {kind}\n{text}")
            if kind == "NEITHER":
                print(difference(now, before))
            break
    subprocess.run(["ip", "netns", "del", NS], check=False, capture_output=True)
    print(json.dumps({"runs": i + 1, "total_s": round(total, 3), "tally": tally}))


if __name__ == "__main__":
    main()
