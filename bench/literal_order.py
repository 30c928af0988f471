"""Tune the order in which the scan's literals are handed to the SIMD searcher.

ahocorasick_rs searches up to 64 literals with Teddy, which puts them in 16 buckets (8 up to
32 literals): literals whose first four bytes share their low nybbles share a bucket, the
others go round the buckets in the order given. A bucket matches a byte where any of its
literals could, so a bucket of dissimilar literals lets many look-alike positions through to
be checked, and the order decides which literals share one. With the 64 literals of issue 19
the case-blind sort ran at 0.51 s/GiB on the benchmark's syslog and the best of 120 random
orders at 0.23; swapping pairs from there (kept when faster) reached 0.17.

This script does that search over `SCAN_LITERALS` on one slice of the benchmark's log
(bench/scan_logs.py writes it), checks the result on another slice, and prints the tuple to
paste as `literals.SEARCH_ORDER`. The lines found do not depend on the order: only the time.

    .venv/bin/python bench/literal_order.py [--log FILE] [--shuffles 120] [--swaps 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import ahocorasick_rs

from linkctl.logs.literals import SCAN_LITERALS, SEARCH_ORDER

SLICE = 32 << 20


def seconds_per_gib(literals: list[bytes], data: bytes, rounds: int = 3) -> float:
    searcher = ahocorasick_rs.BytesAhoCorasick(literals, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        searcher.find_matches_as_indexes(data)
        best = min(best, time.perf_counter() - start)
    return best * (1 << 30) / len(data)


def search(train: bytes, shuffles: int, swaps: int, rng: random.Random) -> list[bytes]:
    order = list(SCAN_LITERALS)
    best, best_time = list(order), seconds_per_gib(order, train)
    for _ in range(shuffles):
        rng.shuffle(order)
        took = seconds_per_gib(order, train)
        if took < best_time:
            best, best_time = list(order), took
    for _ in range(swaps):
        a, b = rng.sample(range(len(best)), 2)
        best[a], best[b] = best[b], best[a]
        took = seconds_per_gib(best, train)
        if took < best_time:
            best_time = took
        else:
            best[a], best[b] = best[b], best[a]
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", type=Path, default=Path("/tmp/linkctl-bench-syslog-1024m.log"))
    parser.add_argument("--shuffles", type=int, default=120)
    parser.add_argument("--swaps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with args.log.open("rb") as log:
        train = log.read(SLICE)
        log.seek(max(0, args.log.stat().st_size // 2))
        check = log.read(SLICE)
    tuned = search(train, args.shuffles, args.swaps, random.Random(args.seed))
    for name, order in (
        ("case-blind sort", sorted(SCAN_LITERALS, key=bytes.lower)),
        ("SEARCH_ORDER now", list(SEARCH_ORDER)),
        ("tuned", tuned),
    ):
        print(f"{name:18} {seconds_per_gib(order, check, 5):.3f} s/GiB on the check slice")
    print("SEARCH_ORDER: tuple[bytes, ...] = (")
    for literal in tuned:
        print(f"    {literal!r},")
    print(")")


if __name__ == "__main__":
    main()
