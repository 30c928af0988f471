#!/usr/bin/env python3
"""Delete N veth pairs with `ip -batch` (one `link del` per pair) and with `linkctl apply` of a
file declaring them absent, in the same run; prints the medians and the ratio.

linkctl hands a row of deletions to the kernel as one batch (engine/executor.py: the links are put
in a group, the group is deleted in one request, one RCU grace period for all); `ip -batch` sends
one request per link, each waiting for its own grace period. The same is what every rollback of a
large create costs, and `state: absent` of many links.

usage: bench/delete_veth.py [--rounds R] N [N ...]   (root; R defaults to 3)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apply_veth import LINKCTL, drop_ns, fresh_ns


def make_pairs(ns: str, n: int, tmp: Path) -> None:
    batch = tmp / "add.batch"
    batch.write_text("".join(f"link add v{i} up type veth peer name p{i}\nlink set dev p{i} up\n" for i in range(n)))
    subprocess.run(["ip", "-n", ns, "-batch", str(batch)], check=True)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def one_round(n: int, tmp: Path, round_no: int) -> tuple[float, float]:
    dels = tmp / "del.batch"
    dels.write_text("".join(f"link del v{i}\n" for i in range(n)))
    absent = tmp / "absent.yml"
    absent.write_text("interfaces:\n" + "".join(f"- {{name: v{i}, type: veth, state: absent}}\n" for i in range(n)))
    ns_ip, ns_lk = f"lkb-del-ip-{round_no}", f"lkb-del-lk-{round_no}"
    results = []
    for ns, cmd in ((ns_ip, ["ip", "-n", ns_ip, "-batch", str(dels)]),
                    (ns_lk, [*LINKCTL, "apply", str(absent), "-n", ns_lk])):  # fmt: skip
        fresh_ns(ns)
        try:
            make_pairs(ns, n, tmp)
            results.append(timed(cmd))
            left = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True, check=True)
            assert left.stdout.count("\n") == 1, f"{ns}: links left after the deletion"
        finally:
            drop_ns(ns)
    return results[0], results[1]


def main(argv: list[str]) -> None:
    rounds = 3
    if argv[:1] == ["--rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    for n in [int(a) for a in argv] or [300]:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [one_round(n, Path(tmp), r) for r in range(rounds)]
        ip_s = statistics.median(r[0] for r in runs)
        lk_s = statistics.median(r[1] for r in runs)
        print(
            f"N={n} pairs deleted: ip -batch {ip_s:.3f} s, linkctl apply {lk_s:.3f} s, ratio {lk_s / ip_s:.2f}x "
            f"(medians of {rounds}; linkctl's includes starting Python, reading, planning and verifying)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
