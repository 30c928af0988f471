"""The one Fix type's two JSON forms, diagnose's flap rule by name, and typed evidence of a
virtual link: no kernel needed."""

from __future__ import annotations

from pathlib import Path

import yaml

from linkctl.diagnose.flapping import COUNTER_DOWNS, LOG_DOWNS, RULE, FlapSigns
from linkctl.diagnose.report import diagnose, fix_file
from linkctl.domain.fix import Fix, Fragment, Risk
from linkctl.model.state import IfFlag, Stats, VethInfo
from tests.helpers.states import host, link

from .conftest import recorded_sources

EEE_OFF = {"interfaces": [{"name": "eth0", "ethtool": {"eee": {"enabled": False}}}]}


def test_a_finding_s_fix_keeps_its_json_and_a_ranked_one_its_own() -> None:
    fix = Fix(
        Fragment.interface("eth0", None, ethtool={"eee": {"enabled": False}}),
        (("ethtool", "--set-eee", "eth0", "eee", "off"),),
        "the link renegotiates once",
    )
    assert fix.to_json() == {
        "declaration": EEE_OFF,
        "commands": ["ethtool --set-eee eth0 eee off"],
        "note": "the link renegotiates once",
    }
    ranked = fix.ranked(Risk.LOW, "turn EEE off")
    assert list(ranked.to_json()) == ["risk", "text", "commands", "declaration"]
    assert ranked.to_json()["risk"] == "low" and ranked.to_json()["declaration"] == EEE_OFF
    assert Fix().risk_rank is Risk.NONE and ranked.risk_rank is Risk.LOW


def test_a_fragment_is_written_in_the_file_s_spelling() -> None:
    # The host's namespace is None in the model and "" where watch names it: the file leaves both out.
    assert Fragment.interface("a", "").to_data() == {"interfaces": [{"name": "a"}]}
    assert list(Fragment.interface("a", "ns1", mtu=9000).to_data()["interfaces"][0]) == ["name", "netns", "mtu"]  # type: ignore[index]
    modules = Fragment.module("e1000e", SmartPowerDownEnable=0).to_data()
    assert modules == {"kernel-modules": {"e1000e": {"parameters": {"SmartPowerDownEnable": 0}}}}


def test_repeated_carrier_loss_needs_one_of_its_three_signs() -> None:
    quiet = FlapSigns(COUNTER_DOWNS - 1, 4, LOG_DOWNS - 1, "files: kern.log", None)
    assert not quiet.flapping
    assert FlapSigns(COUNTER_DOWNS, 6, 0, "", None).flapping
    assert FlapSigns(0, 0, LOG_DOWNS, "", None).flapping
    assert FlapSigns(0, 0, 0, "", 1).flapping  # an episode watch's own rule opened
    data = quiet.to_json()
    assert data["store_episodes"] == "not available" and data["rule"] == RULE == "repeated-carrier-loss"


def test_a_veth_whose_peer_is_down_names_the_peer_in_its_evidence(tmp_path: Path) -> None:
    no_carrier = IfFlag.UP | IfFlag.BROADCAST
    h = host(
        link(4, "v0", kind="veth", flags=no_carrier, link_ifindex=5, info=VethInfo(5), carrier=False, stats=Stats()),
        link(5, "v1", kind="veth", flags=IfFlag.BROADCAST, link_ifindex=4, info=VethInfo(4)),
        netns="nsx",
    )
    d = diagnose("v0", "nsx", recorded_sources("virtio-net", tmp_path), h)
    ev = d.to_json()["evidence"]
    assert isinstance(ev, dict)
    # what the dependency check read is told after the link's own values, as it always was
    assert list(ev["link"])[-4:] == ["stats", "peer", "peer_netns", "peer_admin_up"]
    assert ev["link"]["physical"] is False and ev["link"]["stats"]["rx_bytes"] == 0
    assert ev["dependency"]["finding"] == "NO-CARRIER: its veth peer v1 is down"
    (cause,) = d.causes
    (fix,) = cause.fixes
    assert (fix.risk, fix.text) == (Risk.LOW, "bring v1 up")
    assert fix.commands == (("ip", "-n", "nsx", "link", "set", "dev", "v1", "up"),)
    proposed = yaml.safe_load(fix_file(d).split("\n# Higher risk")[0])
    assert proposed == {"interfaces": [{"name": "v1", "netns": "nsx", "state": "up"}]}
