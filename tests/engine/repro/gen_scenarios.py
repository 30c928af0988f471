"""Write the declarations the stress harnesses use under /tmp/rv16 (or the directory given):
before.yml/change.yml (two namespaces: renames, a move, bridge ports, deletions, cross-namespace pairs,
a macvlan re-made, a VXLAN), nsc/ (the change makes namespace lkrv-b, moves links into it and bridges
there), p1500/p9000/pabsent.yml (300 veth pairs in one namespace)."""

from __future__ import annotations

import sys
from pathlib import Path

N = 40
PAIRS = 300


def two_ns() -> tuple[str, str]:
    ports = ", ".join(f"{{name: v{i}}}" for i in range(10))
    stp = "options: {stp: {enabled: false}}"
    before = [
        "interfaces:",
        f"- {{name: br0, type: linux-bridge, state: up, mtu: 1500, bridge: {{{stp}, port: [{ports}]}}}}",
    ]
    for i in range(10):
        before += [f"- {{name: v{i}, type: veth, state: up, mtu: 1500, veth: {{peer: p{i}, peer-netns: lkrv-b}}}}",
                   f"- {{name: p{i}, type: veth, state: up, netns: lkrv-b, mtu: 1500}}"]  # fmt: skip
    for i in range(N):
        before += [f"- {{name: x{i}, type: veth, state: up, mtu: 1500, veth: {{peer: y{i}}}}}",
                   f"- {{name: y{i}, type: veth, state: up, mtu: 1500}}"]  # fmt: skip
    before += ["- {name: m0, type: mac-vlan, state: up, mac-vlan: {base-iface: x0, mode: bridge}}",
               "- {name: mv1, type: veth, state: up, veth: {peer: mv1p}}",
               "- {name: mv1p, type: veth, state: up}"]  # fmt: skip
    before += [f"- {{name: n{i}, type: veth, state: absent}}" for i in range(N)]
    before += ["- {name: br1, type: linux-bridge, state: absent}", "- {name: vx9, type: vxlan, state: absent}"]
    low, high = ", ".join(f"{{name: v{i}}}" for i in range(5)), ", ".join(f"{{name: v{i}}}" for i in range(5, 10))
    change = ["interfaces:",
              f"- {{name: br0, type: linux-bridge, state: up, mtu: 9000, bridge: {{{stp}, port: [{low}]}}}}",
              f"- {{name: br1, type: linux-bridge, state: up, mtu: 9000, bridge: {{{stp}, port: [{high}]}}}}",
              "- {name: vx9, type: vxlan, state: up, mtu: 1400, vxlan: {id: 9, base-iface: br1, remote: 192.0.2.9, "
              "destination-port: 4789}}"]  # fmt: skip
    for i in range(10):
        change += [f"- {{name: v{i}, type: veth, state: up, mtu: 9000, veth: {{peer: q{i}, peer-netns: lkrv-b}}}}",
                   f"- {{name: q{i}, type: veth, state: up, netns: lkrv-b, mtu: 9000}}"]  # fmt: skip
    for i in range(N):
        if i % 2:
            change.append(f"- {{name: x{i}, type: veth, state: absent}}")
        else:
            change += [f"- {{name: x{i}, type: veth, state: up, mtu: 4000, txqueuelen: 77, veth: {{peer: y{i}}}}}",
                       f"- {{name: y{i}, type: veth, state: down, mtu: 4000}}"]  # fmt: skip
        change += [f"- {{name: n{i}, type: veth, state: up, mtu: 2000, veth: {{peer: o{i}, peer-netns: lkrv-b}}}}",
                   f"- {{name: o{i}, type: veth, state: up, netns: lkrv-b, mtu: 2000}}"]  # fmt: skip
    change += ["- {name: m0, type: mac-vlan, state: up, mac-vlan: {base-iface: x0, mode: private}}",
               "- {name: mv1, type: veth, state: up, netns: lkrv-b}"]  # fmt: skip
    return "\n".join(before) + "\n", "\n".join(change) + "\n"


def new_ns(count: int = 100) -> tuple[str, str]:
    before = ["interfaces:"] + [
        f"- {{name: x{i}, type: veth, state: up, mtu: 1500, veth: {{peer: y{i}}}}}\n"
        f"- {{name: y{i}, type: veth, state: up, mtu: 1500}}"
        for i in range(count)
    ]
    change = ["interfaces:"]
    for i in range(count):
        if i % 3 == 0:
            change.append(f"- {{name: y{i}, type: veth, state: up, netns: lkrv-b, mtu: 1500}}")
        change += [f"- {{name: n{i}, type: veth, state: up, mtu: 3000, veth: {{peer: o{i}, peer-netns: lkrv-b}}}}",
                   f"- {{name: o{i}, type: veth, state: up, netns: lkrv-b, mtu: 3000}}"]  # fmt: skip
    ports = ", ".join(f"{{name: o{i}}}" for i in range(0, count, 2))
    change.append(
        f"- {{name: brb, type: linux-bridge, state: up, netns: lkrv-b, bridge: {{options: {{stp: {{enabled: false}}}}, "
        f"port: [{ports}]}}}}"
    )
    return "\n".join(before) + "\n", "\n".join(change) + "\n"


def pairs(mtu: int, txq: int = 1000) -> str:
    return "interfaces:\n" + "".join(
        f"- {{name: v{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}, veth: {{peer: p{i}}}}}\n"
        f"- {{name: p{i}, type: veth, state: up, mtu: {mtu}, txqueuelen: {txq}}}\n"
        for i in range(PAIRS)
    )


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/rv16")
    (out / "nsc").mkdir(parents=True, exist_ok=True)
    for where, (before, change) in ((out, two_ns()), (out / "nsc", new_ns())):
        (where / "before.yml").write_text(before)
        (where / "change.yml").write_text(change)
    (out / "p1500.yml").write_text(pairs(1500))
    (out / "p9000.yml").write_text(pairs(9000, 2000))
    absent = "".join(f"- {{name: v{i}, type: veth, state: absent}}\n" for i in range(PAIRS))
    (out / "pabsent.yml").write_text("interfaces:\n" + absent)


if __name__ == "__main__":
    main()
