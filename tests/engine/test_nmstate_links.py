"""nmstate's link files as written, in real namespaces: sections linkctl leaves (named, or refused
with --strict), type ethernet on a veth, state: ignore, description, copy-mac-from; checked with
`ip -j`, applied twice (nothing sent the second time), shown and applied back, rolled back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ip, run_linkctl
from tests.engine.kernel_helpers import by_name, write

SECRET = "hunter2-Zq9-never-printed"

# eth1/eth2 are played by veth ends, as nmstate's own tests play NICs.
NMSTATE = f"""
hostname: {{config: host1.example.org}}
dns-resolver:
  config: {{server: [192.0.2.53]}}
interfaces:
- name: eth1
  type: ethernet
  state: up
  mtu: 1400
  description: uplink, rack 4
  lldp: {{enabled: true}}
  802.1x: {{identity: alice, eap-methods: [peap], password: {SECRET}, private-key-password: {SECRET}}}
- name: eth3
  state: ignore
- name: br0
  type: linux-bridge
  state: up
  copy-mac-from: eth2
  bridge:
    options: {{stp: {{enabled: false}}}}
    port: [{{name: eth2}}]
- name: eth2
  type: ethernet
  state: up
- {{name: v7, type: veth, description: made here, veth: {{peer: v7p}}}}
- {{name: v7p, type: veth, description: and its peer, veth: {{peer: v7}}}}
"""


def nics(ns: str) -> None:
    """eth1, eth2 as veth ends (peers eth1p, eth2p); br0 with eth3 as its port."""
    ip("-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    ip("-n", ns, "link", "add", "eth2", "type", "veth", "peer", "name", "eth2p")
    ip("-n", ns, "link", "add", "eth3", "type", "veth", "peer", "name", "eth3p")
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "link", "set", "eth3", "master", "br0")


def test_an_nmstate_file_applies_as_written(netns: str, tmp_path: Path) -> None:
    nics(netns)
    path = write(tmp_path, NMSTATE)
    res = run_linkctl("apply", path, "--netns", netns)
    assert res.returncode == 0, res.stderr
    assert f"{path}: dns-resolver: not managed by linkctl, left as the system has it" in res.stderr
    assert f"{path}: interface eth1: 802.1x: not managed by linkctl" in res.stderr
    links = by_name(netns)
    # type ethernet adopted the veth (was: "an ethernet link must already exist")
    assert links["eth1"]["mtu"] == 1400 and links["eth1"]["linkinfo"]["info_kind"] == "veth"  # type: ignore[index]
    assert links["eth1"]["ifalias"] == "uplink, rack 4"
    assert links["br0"]["address"] == links["eth2"]["address"]  # copy-mac-from
    assert links["eth2"]["master"] == "br0"
    assert links["eth3"]["master"] == "br0"  # ignored: not released though the list leaves it out
    # The kernel ignores an alias in the creating request: set by a second one, for both ends.
    assert (links["v7"]["ifalias"], links["v7p"]["ifalias"]) == ("made here", "and its peer")
    again = run_linkctl("apply", path, "--netns", netns, "--debug")
    assert again.returncode == 0 and "nothing was sent to the kernel" in again.stdout, again.stdout + again.stderr
    # No receipt answers for such a file: its answer would not name the sections left alone.
    third = run_linkctl("apply", path, "--netns", netns)
    assert "nothing was sent" in third.stdout and "dns-resolver: not managed by linkctl" in third.stderr
    as_json = run_linkctl("plan", path, "--netns", netns, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    notes = json.loads(as_json.stdout)["notes"]
    assert f"{path}: dns-resolver: not managed by linkctl, left as the system has it" in notes
    assert SECRET not in as_json.stdout
    shown = run_linkctl("show", "--netns", netns, "--format", "yaml").stdout
    assert "description: uplink, rack 4" in shown
    back = run_linkctl("plan", write(tmp_path, shown, "shown.yml"), "--netns", netns)
    assert back.returncode == 0, back.stdout + back.stderr


def test_strict_refuses_before_any_change(netns: str, tmp_path: Path) -> None:
    nics(netns)
    before = ip("-n", netns, "-d", "link", "show")
    res = run_linkctl("apply", "--strict", write(tmp_path, NMSTATE), "--netns", netns)
    assert res.returncode == 1
    assert "dns-resolver: '(section)': not managed by linkctl, and --strict refuses" in res.stderr
    assert "interface eth1: lldp:" in res.stderr and "interface eth1: 802.1x:" in res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before


def test_try_strict_refuses_before_any_change(netns: str, tmp_path: Path) -> None:
    nics(netns)
    before = ip("-n", netns, "-d", "link", "show")
    res = run_linkctl("try", "--strict", "--timeout", "5", write(tmp_path, NMSTATE), "--netns", netns)
    assert res.returncode == 1 and "--strict refuses" in res.stderr, res.stdout + res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before


def test_no_secret_in_any_output(netns: str, tmp_path: Path) -> None:
    nics(netns)
    path = write(tmp_path, NMSTATE + "- {name: eth9, type: ethernet, 802.1X: {password: " + SECRET + "}}\n")
    outputs = []
    for args in (["plan"], ["plan", "--strict"], ["apply"], ["apply", "--debug"], ["plan", "-f", "json"]):
        res = run_linkctl(*args, path, "--netns", netns)
        assert res.returncode == 1, res.stdout + res.stderr  # the misspelt 802.1X is refused
        outputs.append(res.stdout + res.stderr)
    assert "802.1X: '(section)': unknown key" in outputs[0]
    assert all(SECRET not in out for out in outputs)


def test_every_problem_of_a_file_in_one_pass(netns: str, tmp_path: Path) -> None:
    # Was: the unknown key first; the ethernet and base problems only once it was fixed.
    nics(netns)
    text = """
interfaces:
- {name: eth1, type: ethernet, mtu: 1400, lldpp: {enabled: true}}
- {name: eth9, type: ethernet}
- {name: mv0, type: mac-vlan, mac-vlan: {base-iface: nowhere0}}
- {name: ghost0, mtu: 1400}
"""
    res = run_linkctl("plan", write(tmp_path, text), "--netns", netns)
    assert res.returncode == 1
    assert "4 problem(s) found" in res.stderr, res.stderr
    for part in (
        "interface eth1: lldpp: '(section)': unknown key: did you mean `lldp`?",
        "interface eth9: type: 'ethernet': an ethernet link must already exist",
        "interface mv0: mac-vlan.base-iface: 'nowhere0'",
        "interface ghost0: type: (not given): no link ghost0 exists in netns",
    ):
        assert part in res.stderr, res.stderr


def test_a_description_is_cleared_and_rolled_back(netns: str, tmp_path: Path) -> None:
    nics(netns)
    ip("-n", netns, "link", "set", "dev", "eth2", "alias", "before")
    cleared = run_linkctl("apply", write(tmp_path, "interfaces: [{name: eth2, description: ''}]"), "--netns", netns)
    assert cleared.returncode == 0, cleared.stderr
    assert "ifalias" not in by_name(netns)["eth2"]
    ip("-n", netns, "link", "set", "dev", "eth2", "alias", "before")
    ip("-n", netns, "link", "add", "mv0", "link", "eth1", "type", "macvlan", "mode", "bridge")
    mac = by_name(netns)["eth1"]["address"]
    # The last step (a macvlan given its base's MAC) is refused by the kernel: all goes back.
    failing = f"""
interfaces:
- {{name: eth2, description: changed}}
- {{name: eth1, description: new}}
- {{name: v5, type: veth, description: made, veth: {{peer: v5p}}}}
- {{name: mv0, mac-address: "{mac}"}}
"""
    res = run_linkctl("apply", write(tmp_path, failing, "f.yml"), "--netns", netns)
    assert res.returncode == 1 and "rolled back" in res.stderr, res.stdout + res.stderr
    links = by_name(netns)
    assert links["eth2"]["ifalias"] == "before"
    assert "ifalias" not in links["eth1"] and "v5" not in links and links["mv0"]["address"] != mac


def test_strict_is_not_answered_by_a_receipt(netns: str, tmp_path: Path) -> None:
    # The plain `apply FILE --strict` skips typer as `apply FILE` does, but never takes the receipt's
    # answer: the links being as the file says is no answer to what --strict asks.
    nics(netns)
    path = write(tmp_path, NMSTATE)
    assert run_linkctl("apply", path, "--netns", netns).returncode == 0
    assert "nothing was sent" in run_linkctl("apply", path, "--netns", netns).stdout
    res = run_linkctl("apply", path, "--netns", netns, "--strict")
    assert res.returncode == 1 and "--strict refuses" in res.stderr, res.stdout + res.stderr
    assert run_linkctl("plan", "--strict", path, "-n", netns).returncode == 1


# Files in the shapes nmstate's examples/ folder documents (written here, with veth stand-ins for
# eth1/eth2): what linkctl does not manage is named and the rest applies; what it cannot do is
# refused with the reason, nothing changed.
EXAMPLES = {
    "static_hostname": ("hostname: {config: edge-7.example.org}\ninterfaces: []\n", "hostname: not managed"),
    "dns_remove": ("dns-resolver: {config: {}}\ninterfaces: []\n", "dns-resolver: not managed"),
    "eth1_up": ("interfaces:\n- {name: eth1, type: ethernet, state: up}\n", None),
    "eth1_with_ieee_802_1x": (
        "interfaces:\n- name: eth1\n  type: ethernet\n  state: up\n  802.1x:\n    identity: c1.example.org\n"
        f"    eap-methods: [tls]\n    private-key: /etc/pki/c1.key\n    private-key-password: {SECRET}\n",
        "interface eth1: 802.1x: not managed",
    ),
    "ovsbridge_create": (
        "interfaces:\n- {name: eth1, type: ethernet, state: up}\n"
        "- {name: ovs-br0, type: ovs-bridge, state: up, bridge: {port: [{name: eth1}, {name: ovs0}]}}\n"
        "- {name: ovs0, type: ovs-interface, state: up}\n",
        "interface ovs-br0: type ovs-bridge: not managed",
    ),
    "team0_with_port": (
        "interfaces:\n- {name: team0, type: team, state: up, team: {port: [{name: eth1}]}}\n",
        "interface team0: type team: not managed",
    ),
    "dispatch_iface": (
        "dispatch: {interfaces: [{type: vxcan, activation: 'ip link add $name type vxcan'}]}\n"
        "interfaces:\n- {name: vxcan1, type: dispatch, dispatch: {type: vxcan}}\n",
        "f.yml: dispatch: not managed",
    ),
}


def test_nmstate_shaped_files_apply_with_their_unmanaged_parts_named(netns: str, tmp_path: Path) -> None:
    nics(netns)
    for name, (text, note) in EXAMPLES.items():
        path = write(tmp_path, text, "f.yml")
        res = run_linkctl("apply", path, "--netns", netns)
        assert res.returncode == 0, (name, res.stdout + res.stderr)
        assert note is None or note in res.stderr, (name, res.stderr)
        assert SECRET not in res.stdout + res.stderr
        again = run_linkctl("apply", path, "--netns", netns)
        assert "nothing was sent to the kernel" in again.stdout, (name, again.stdout + again.stderr)
    assert "UP" in by_name(netns)["eth1"]["flags"]  # type: ignore[operator]


def test_sr_iov_virtual_functions_are_refused_with_how(netns: str, tmp_path: Path) -> None:
    nics(netns)
    before = ip("-n", netns, "-d", "link", "show")
    text = (
        "interfaces:\n- name: eth1\n  type: ethernet\n  state: up\n  ethernet:\n    sr-iov:\n"
        "      total-vfs: 2\n      vfs: [{id: 0, trust: false}]\n"
    )
    res = run_linkctl("apply", write(tmp_path, text), "--netns", netns)
    assert res.returncode == 1 and "linkctl does not make SR-IOV virtual functions" in res.stderr, res.stderr
    assert ip("-n", netns, "-d", "link", "show") == before
    without = text.replace("total-vfs: 2\n      vfs: [{id: 0, trust: false}]", "total-vfs: 0")
    res = run_linkctl("apply", write(tmp_path, without, "none.yml"), "--netns", netns)
    assert res.returncode == 0 and "ethernet.sr-iov: not managed by linkctl" in res.stderr, res.stderr
