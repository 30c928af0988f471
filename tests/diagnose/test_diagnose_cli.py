"""`linkctl diagnose` and `linkctl boot-apply` end to end on real links in namespaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from linkctl.cli import diag
from linkctl.kernel.ethtool import Ethtool
from tests.conftest import run_linkctl

from .conftest import ip, kernel

pytestmark = kernel


def _app() -> typer.Typer:
    app = typer.Typer()
    diag.register(app)
    return app


def test_diagnose_veth_with_log_file(make_netns: Callable[[], str], tmp_path: Path) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "dg0", "type", "veth", "peer", "name", "dg1")
    ip("-n", ns, "link", "set", "dg0", "up")
    ip("-n", ns, "link", "set", "dg1", "up")
    log = tmp_path / "kern.log"
    log.write_text(
        "2024-05-01T10:00:00+00:00 h kernel: IPv6: ADDRCONF(NETDEV_CHANGE): dg0: link becomes ready\n"
        "2024-05-01T10:00:05+00:00 h kernel: br0: port 1(dg0) entered disabled state\n"
    )
    fix = tmp_path / "fix.yml"
    out = CliRunner().invoke(
        _app(),
        [
            "diagnose",
            "dg0",
            "--netns",
            ns,
            "--logs",
            str(log),
            "--since",
            "3650d",
            "--format",
            "json",
            "--write-fix",
            str(fix),
        ],
    )
    assert out.exit_code in (0, 1), out.output
    data = json.loads(out.stdout)
    ev = data["evidence"]
    assert ev["driver"]["driver"] == "veth" and ev["settings"]["speed"] == 10000
    assert ev["unavailable"]["eee"] == "not supported by the driver"
    assert ev["log"]["source"].startswith("files: ")
    assert "features" in ev and "generic-receive-offload" in ev["features"]
    # A veth has no cable, PHY or power saving: only what it depends on is weighed.
    (cause,) = data["causes"]
    assert cause["id"] == "depends-on" and cause["verdict"] == "unlikely"  # it has a carrier
    # Nothing to propose: a file naming dg0 alone was written, and "applied" as nothing to change.
    assert not fix.exists()
    assert f"no declaration to propose: nothing written to {fix}" in out.stderr


def test_diagnose_a_veth_whose_peer_is_down_proposes_the_peer(make_netns: Callable[[], str], tmp_path: Path) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "dg0", "up", "type", "veth", "peer", "name", "dg1")  # dg1 left down
    fix = tmp_path / "fix.yml"
    out = CliRunner().invoke(_app(), ["diagnose", "dg0", "--netns", ns, "--write-fix", str(fix)])
    assert "1. the link it depends on: its veth peer, its lower link or its bridge ports [likely" in out.stdout
    assert "+ NO-CARRIER: its veth peer dg1 is down" in out.stdout
    assert f"[low] bring dg1 up  (depends-on)\n        run: ip -n {ns} link set dev dg1 up" in out.stdout
    assert "cable" not in out.stdout.split("likely causes")[1], out.stdout
    # The proposal is for the peer, not merged into dg0's entry; `apply` carries it out.
    proposed = yaml.safe_load(fix.read_text())
    assert proposed == {"interfaces": [{"name": "dg1", "netns": ns, "state": "up"}]}
    assert run_linkctl("apply", str(fix)).returncode == 0
    assert "UP" in json.loads(ip("-n", ns, "-j", "link", "show", "dg0"))[0]["flags"]
    assert "NO-CARRIER" not in json.loads(ip("-n", ns, "-j", "link", "show", "dg0"))[0]["flags"]


def test_diagnose_unknown_link_is_an_error(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    out = CliRunner().invoke(_app(), ["diagnose", "nope0", "--netns", ns])
    assert out.exit_code != 0
    assert "no such link" in str(out.exception)


def test_boot_apply_links_then_ethtool(make_netns: Callable[[], str], tmp_path: Path) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "ba0", "type", "veth", "peer", "name", "ba1")
    gro = Ethtool("ba0", ns).features()["generic-receive-offload"].active
    (tmp_path / "10-links.yml").write_text(
        f"interfaces:\n- name: ba0\n  type: veth\n  netns: {ns}\n  mtu: 9000\n  veth: {{peer: ba1}}\n"
        f"  ethtool:\n    feature:\n      rx-gro: {str(not gro).lower()}\n"
    )
    out = CliRunner().invoke(_app(), ["boot-apply", "--dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert Ethtool("ba0", ns).features()["generic-receive-offload"].active is (not gro)
    again = CliRunner().invoke(_app(), ["boot-apply", "--dir", str(tmp_path)])
    assert "nothing to change" in again.stdout


def test_diagnose_a_macvlan_whose_lower_veth_waits_for_its_peer_proposes_the_peer(
    make_netns: Callable[[], str], tmp_path: Path
) -> None:
    """The lower link is up already: bringing it up (what was proposed) changed nothing and left the
    macvlan without carrier; the fix is the lower link's own peer."""
    ns = make_netns()
    ip("-n", ns, "link", "add", "ml0", "up", "type", "veth", "peer", "name", "ml9")  # ml9 left down
    ip("-n", ns, "link", "add", "mv0", "link", "ml0", "up", "type", "macvlan", "mode", "bridge")
    fix = tmp_path / "fix.yml"
    out = CliRunner().invoke(_app(), ["diagnose", "mv0", "--netns", ns, "--write-fix", str(fix)])
    assert "+ NO-CARRIER: its lower link ml0 has none: its veth peer ml9 is down" in out.stdout, out.stdout
    assert f"[low] bring ml9 up  (depends-on)\n        run: ip -n {ns} link set dev ml9 up" in out.stdout
    assert yaml.safe_load(fix.read_text()) == {"interfaces": [{"name": "ml9", "netns": ns, "state": "up"}]}
    assert run_linkctl("apply", str(fix)).returncode == 0
    assert "NO-CARRIER" not in json.loads(ip("-n", ns, "-j", "link", "show", "mv0"))[0]["flags"]
    audit = CliRunner().invoke(_app(), ["audit", "--netns", ns, "--interval", "0"])
    assert "no-carrier" not in audit.stdout, audit.stdout


def test_diagnose_a_bridge_whose_ports_have_no_carrier_says_where_to_look(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "bq0", "up", "type", "bridge")
    ip("-n", ns, "link", "add", "bqp", "type", "veth", "peer", "name", "bqq")  # bqq left down
    ip("-n", ns, "link", "set", "bqp", "master", "bq0", "up")
    out = CliRunner().invoke(_app(), ["diagnose", "bq0", "--netns", ns, "--format", "json"])
    data = json.loads(out.stdout)
    assert [f["text"] for f in data["fixes_by_risk"]] == ["check the ports: bqp"], out.stdout


def test_diagnose_a_veth_whose_peer_is_down_in_another_namespace_proposes_the_peer(
    make_netns: Callable[[], str], tmp_path: Path
) -> None:
    """Only the link's own namespace was read: the peer down elsewhere was 'no evidence either way'."""
    ns, other = make_netns(), make_netns()
    ip("-n", ns, "link", "add", "xg0", "up", "type", "veth", "peer", "name", "xg1", "netns", other)  # xg1 down
    fix = tmp_path / "fix.yml"
    out = CliRunner().invoke(_app(), ["diagnose", "xg0", "--netns", ns, "--write-fix", str(fix)])
    assert "+ NO-CARRIER: its veth peer xg1 is down" in out.stdout, out.stdout
    assert out.exit_code == 2
    assert yaml.safe_load(fix.read_text()) == {"interfaces": [{"name": "xg1", "netns": other, "state": "up"}]}
    assert run_linkctl("apply", str(fix)).returncode == 0
    assert "NO-CARRIER" not in json.loads(ip("-n", ns, "-j", "link", "show", "xg0"))[0]["flags"]


def test_diagnose_refuses_a_store_url_of_no_known_scheme(make_netns: Callable[[], str]) -> None:
    """It was read as 'store not available' and the verdict given without it: 'info', exit 0."""
    ns = make_netns()
    ip("-n", ns, "link", "add", "sg0", "up", "type", "veth", "peer", "name", "sg1")
    ip("-n", ns, "link", "set", "sg1", "up")
    out = run_linkctl("diagnose", "sg0", "--netns", ns, "--store", "sqlit:///var/lib/x.db")
    assert out.returncode == 64, out.stdout + out.stderr
    assert "--store: sqlit:///var/lib/x.db: unknown scheme; use sqlite:///PATH or postgresql://" in out.stderr
    assert "diagnose sg0" not in out.stdout


def test_diagnose_a_link_named_with_an_escape(make_netns: Callable[[], str]) -> None:
    # The kernel takes an ESC in a name, and ethtool 6.1's --json writes it raw (not JSON):
    # `diagnose` of such a link was 'internal error: JSONDecodeError: Invalid control character'.
    ns = make_netns()
    ip("-n", ns, "link", "add", "\x1b[8mhid", "type", "veth", "peer", "name", "dg1")
    done = run_linkctl("diagnose", "\x1b[8mhid", "--netns", ns, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["ifname"] == "\x1b[8mhid"
    assert data["evidence"]["driver"]["driver"] == "veth"


def test_diagnose_text_spells_out_a_bidi_override_or_an_escape_in_the_name(make_netns: Callable[[], str]) -> None:
    # The name went out as the kernel holds it: on a terminal ESC[8m hid the rest of the
    # report, U+202E turned each line naming the link around (and through a pipe click cut the
    # ESC sequence out, leaving 'hid', another name). Now spelt as `show` spells it.
    ns = make_netns()
    ip("-n", ns, "link", "add", "\x1b[8mhid", "type", "veth", "peer", "name", "e\u202eth1")
    for name, spelt in (("\x1b[8mhid", "\\x1b[8mhid"), ("e\u202eth1", "e\\u202eth1")):
        done = run_linkctl("diagnose", name, "--netns", ns)
        assert done.returncode in (0, 1), done.stderr
        assert done.stdout.startswith(f"diagnose {spelt} (netns {ns}):"), done.stdout[:200]
        assert "\x1b" not in done.stdout and "\u202e" not in done.stdout


_SEED = (
    "Mar 30 06:32:45 aurora kernel: [566322.867110] e1000e: dg0 NIC Link is Down\n"
    "Mar 30 06:32:47 aurora kernel: [566325.313634] e1000e: dg0 NIC Link is Up 1000 Mbps Full Duplex, "
    "Flow Control: Rx/Tx\n"
    "Mar 30 06:32:59 aurora kernel: [566337.632930] e1000e: dg0 NIC Link is Down\n"
    "Mar 30 06:33:18 aurora kernel: [566356.543664] e1000e: dg0 NIC Link is Up 1000 Mbps Full Duplex, "
    "Flow Control: None\n"
)


def test_diagnose_says_how_long_each_down_lasted_and_the_flow_control_on_the_kernels_clock(
    make_netns: Callable[[], str], tmp_path: Path
) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "dg0", "type", "veth", "peer", "name", "dg1")
    log = tmp_path / "kern.log"
    ip("-n", ns, "link", "set", "dg0", "up")
    ip("-n", ns, "link", "set", "dg1", "up")
    log.write_text(_SEED)
    args = ["diagnose", "dg0", "--netns", ns, "--logs", str(log), "--since", "2000-01-01T00:00:00"]
    out = CliRunner().invoke(_app(), args)
    # The seed's 2-19 s, as `logs analyze` measures them: syslog's whole seconds would say 2 and 19.
    assert "down for 2.45, 18.91 s (min 2.45, max 18.91)" in out.stdout, out.output
    assert "flow control [none x1, rx/tx x1]" in out.stdout
    # A veth with a carrier now has nothing linkctl could change: said, not an empty heading.
    assert "fixes, lowest risk first:\n  none linkctl can apply: see what only a person can check" in out.stdout
    data = json.loads(CliRunner().invoke(_app(), [*args, "--format", "json"]).stdout)
    assert data["evidence"]["log"]["down_seconds"] == [2.45, 18.91]


def test_diagnose_names_the_link_events_its_since_window_left_out(
    make_netns: Callable[[], str], tmp_path: Path
) -> None:
    ns = make_netns()
    ip("-n", ns, "link", "add", "dg0", "type", "veth", "peer", "name", "dg1")
    log = tmp_path / "kern.log"
    log.write_text(
        "".join(
            f"2001-03-30T06:32:{i:02d}+00:00 aurora kernel: {ln.split('] ', 1)[1]}\n"
            for i, ln in enumerate(_SEED.splitlines())
        )
    )
    out = CliRunner().invoke(_app(), ["diagnose", "dg0", "--netns", ns, "--logs", str(log)])
    # The default window (7d) leaves a log of 2001 out: said, not read as "0 down" alone.
    assert "0 down, 0 up," in out.stdout, out.output
    assert "and 4 link event(s) of dg0 older than --since, not counted" in out.stdout
    data = json.loads(
        CliRunner().invoke(_app(), ["diagnose", "dg0", "--netns", ns, "--logs", str(log), "-f", "json"]).stdout
    )
    assert data["evidence"]["log"]["link_events_before_since"] == 4
