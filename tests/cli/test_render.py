"""`show --format json|yaml` renderings: what they hold, and their shape."""

from __future__ import annotations

import json
from dataclasses import replace

import yaml

from linkctl.cli.render import link_record, links_json, links_yaml
from linkctl.model.spec import dump_spec
from linkctl.model.state import Stats
from linkctl.plan.convert import spec_of
from tests.helpers.states import topology


def test_json_is_one_link_per_line_and_holds_each_record() -> None:
    host = topology()
    links = sorted(host, key=lambda lk: lk.ifindex)
    links[1] = replace(links[1], stats=Stats(rx_bytes=7, tx_packets=3))
    text = links_json(links, host, stats=True)
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(links) + 2
    assert json.loads(text) == [json.loads(json.dumps(link_record(lk, host, True))) for lk in links]
    eth0 = json.loads(lines[2].rstrip(","))
    assert eth0["name"] == "eth0" and eth0["stats"]["rx_bytes"] == 7 and eth0["stats"]["tx_packets"] == 3
    assert json.loads(text)[2]["info"]["ports"] == ["veth0"]


def test_json_of_no_links_is_an_empty_list() -> None:
    assert json.loads(links_json([], topology(), stats=False)) == []


def test_yaml_is_what_pyyaml_s_own_safe_dumper_writes() -> None:
    host = topology()
    links = sorted(host, key=lambda lk: lk.ifindex)
    data = {"interfaces": [dump_spec(spec_of(lk, host)) for lk in links]}
    expected = yaml.dump(data, Dumper=yaml.SafeDumper, sort_keys=False, default_flow_style=False)
    assert links_yaml(links, host) == expected
    assert yaml.safe_load(expected)["interfaces"][2]["name"] == "br0"


def test_a_bridge_port_s_own_settings_are_in_its_json_record() -> None:
    from linkctl.model.state import BridgePortInfo

    host = topology()
    veth0 = host.find("veth0", None)
    assert veth0 is not None
    port = replace(veth0, port=BridgePortInfo(16, 50, True))
    assert link_record(port, host, False)["port"] == {"stp_priority": 16, "stp_path_cost": 50, "stp_hairpin_mode": True}
    assert "port" not in link_record(veth0, host, False)
