"""Bridge and bridge-port STP settings as nmstate writes them, against the real kernel."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name, write


def test_bridge_stp_timers_and_multicast_snooping_as_nmstate_writes_them(netns: str, tmp_path: Path) -> None:
    text = """
interfaces:
- name: brx
  type: linux-bridge
  bridge:
    options:
      stp: {enabled: true, forward-delay: 4, hello-time: 1, max-age: 6, priority: 4096}
      mac-ageing-time: 120
      multicast-snooping: false
"""
    path = write(tmp_path, text)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    data = by_name(netns)["brx"]["linkinfo"]["info_data"]  # type: ignore[index]
    assert (data["forward_delay"], data["hello_time"], data["max_age"]) == (400, 100, 600)  # type: ignore[index]
    assert (data["priority"], data["ageing_time"], data["mcast_snooping"]) == (4096, 12000, 0)  # type: ignore[index]
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0
    # Changed in place, only what differs; `show -f yaml` says it back as written.
    changed = write(
        tmp_path, text.replace("hello-time: 1", "hello-time: 2").replace("snooping: false", "snooping: true")
    )
    plan = run_linkctl("plan", changed, "--netns", netns)
    assert "bridge.options.stp.hello-time 1 -> 2, bridge.options.multicast-snooping false -> true" in plan.stdout
    assert f"$ ip -n {netns} link set dev brx type bridge hello_time 200 mcast_snooping 1" in plan.stdout
    assert run_linkctl("apply", changed, "--netns", netns).returncode == 0
    shown = run_linkctl("show", "brx", "--netns", netns, "--format", "yaml").stdout
    assert "hello-time: 2\n" in shown and "max-age: 6\n" in shown and "multicast-snooping: true\n" in shown
    # Out of the kernel's range: refused before any change, with the range.
    bad = run_linkctl("plan", write(tmp_path, text.replace("max-age: 6", "max-age: 50"), "bad.yml"), "-n", netns)
    assert (
        bad.returncode == 1 and "bridge.options.stp.max-age: 50: Input should be less than or equal to 40" in bad.stderr
    )


def test_bridge_port_stp_settings_as_nmstate_writes_them(netns: str, tmp_path: Path) -> None:
    from linkctl.kernel.fastpath import current_digest

    ports = "[{name: pa, stp-priority: 16, stp-path-cost: 50, stp-hairpin-mode: true}, {name: pb}]"
    text = (
        f"interfaces:\n- {{name: brp, type: linux-bridge, bridge: {{options: {{stp: {{enabled: true}}}}, port: {ports}}}}}\n"
        "- {name: pa, type: veth, veth: {peer: pa-x}}\n- {name: pb, type: veth, veth: {peer: pb-x}}\n"
    )
    path = write(tmp_path, text)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stdout + res.stderr
    # Set once the port is in the bridge: the kernel takes them only from a port.
    assert f"$ ip -n {netns} link set dev pa type bridge_slave priority 16 cost 50 hairpin on" in res.stdout
    slave = by_name(netns)["pa"]["linkinfo"]["info_slave_data"]  # type: ignore[index]
    assert (slave["priority"], slave["cost"], slave["hairpin"]) == (16, 50, True)  # type: ignore[index]
    assert run_linkctl("plan", path, "--netns", netns).returncode == 0
    # Changed in place, only what differs; `show -f yaml` says every port's settings back.
    changed = write(tmp_path, text.replace("stp-priority: 16", "stp-priority: 20"), "changed.yml")
    plan = run_linkctl("plan", changed, "--netns", netns)
    assert f"set pa (netns {netns}) as a port of brp: stp-priority 16 -> 20" in plan.stdout
    assert run_linkctl("apply", changed, "--netns", netns).returncode == 0
    shown = run_linkctl("show", "brp", "--netns", netns, "--format", "yaml").stdout
    assert "- name: pa\n      stp-priority: 20\n      stp-path-cost: 50\n      stp-hairpin-mode: true\n" in shown
    # A setting changed by hand changes the receipt's fingerprint: no no-op answered from it.
    before = current_digest([netns])
    ip("-n", netns, "link", "set", "dev", "pa", "type", "bridge_slave", "cost", "60")
    assert current_digest([netns]) != before
    assert "stp-path-cost 60 -> 50" in run_linkctl("plan", changed, "--netns", netns).stdout
    bad = run_linkctl("plan", write(tmp_path, text.replace("stp-priority: 16", "stp-priority: 64"), "b.yml"))
    assert (
        bad.returncode == 1 and "bridge.port.0.stp-priority: 64: Input should be less than or equal to 63" in bad.stderr
    )
