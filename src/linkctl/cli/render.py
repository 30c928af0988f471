"""Text, JSON and YAML renderings of links and plans for the front ends."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from linkctl.kinds import bridge, kind_of
from linkctl.model.spec import Section, dump_spec
from linkctl.model.state import BridgeInfo, HostState, IfFlag, Link, VethInfo
from linkctl.plan.convert import spec_of
from linkctl.plan.text import UNCHANGED_SHOWN, op_record, plan_json, plan_text


def link_record(link: Link, host: HostState, stats: bool) -> dict[str, Any]:
    """One link as `ip -details -statistics link show` tells it, keyed for machines."""
    ns = host.ns(link.netns)
    peer = host.peer_of(link)
    rec: dict[str, Any] = {
        "ifindex": link.ifindex,
        "name": link.name,
        "netns": link.netns,
        "type": kind_of(link).type.value,
        "kind": link.kind,
        "admin_state": "up" if link.admin_up else "down",
        "operstate": link.operstate.label,
        "carrier": link.carrier,
        "no_carrier": link.no_carrier,
        "flags": _flag_names(link.flags),
        "mtu": link.mtu,
        "min_mtu": link.min_mtu or None,
        "max_mtu": link.max_mtu or None,
        "mac": link.mac,
        "master": ns.name_of(link.master_ifindex),
        "txqueuelen": link.txqlen,
        "promisc": link.promisc,
        "promiscuity": link.promiscuity,
        "carrier_changes": link.carrier_changes,
        "carrier_up_count": link.carrier_up_count,
        "carrier_down_count": link.carrier_down_count,
        "info": _info(link, host),
    }
    if isinstance(link.info, VethInfo):
        rec["info"] = {"peer": peer.name if peer else None}
        if peer is not None and peer.netns != link.netns:
            rec["info"]["peer_netns"] = peer.netns or ""  # "": the host's, as the watch records name it
    if kind_of(link).type.value in ("linux-bridge", "bond"):
        rec["info"]["ports"] = ns.ports_of(link.name)
    if link.port is not None:  # its own settings as a bridge's port (`ip -d` prints them after the kind)
        rec["port"] = link.port._asdict()
    if stats and link.stats is not None:
        rec["stats"] = _shallow(link.stats)
    return rec


def _info(link: Link, host: HostState) -> dict[str, Any]:
    if link.info is None:
        return {}
    data = _shallow(link.info)
    data.pop("data", None)  # every attribute the kernel sent, raw: read through the kind's section, not shown
    if isinstance(link.info, BridgeInfo):  # seconds, as the declaration writes them (`ip -d` prints ticks)
        data.update({k: bridge.seconds(data[k]) for k in bridge.TIMERS if data.get(k) is not None})
    if "primary_ifindex" in data:
        data["primary"] = host.ns(link.netns).name_of(data.pop("primary_ifindex"))
    data.pop("base_ifindex", None)
    lower = kind_of(link).reported_lower(link)
    if lower is not None:
        data["base"] = _lower_name(link, lower, host)
    return data


def _lower_name(link: Link, index: int, host: HostState) -> str | None:
    """The base's name; one left in another namespace by a move is named there, as `ip -d` does."""
    base = host.in_link_net(link, index)
    if link.link_netnsid is None:
        return base.name if base is not None else None
    known, netns = host.link_net(link)
    where = (netns or "default") if known else f"netnsid {link.link_netnsid}"
    return f"{base.name if base is not None else f'if{index}'}@{where}"


_FIELDS: dict[type, tuple[str, ...]] = {}


def _shallow(obj: object) -> dict[str, Any]:
    """A flat dataclass as a dict: what dataclasses.asdict gives for these, without its deep copy (5x slower)."""
    names = _FIELDS.get(type(obj))
    if names is None:
        names = _FIELDS[type(obj)] = tuple(f.name for f in fields(obj))  # type: ignore[arg-type]
    return {name: getattr(obj, name) for name in names}


def _flag_names(flags: IfFlag) -> list[str]:
    names = [f.name for f in IfFlag if f in flags and f.name]
    return [n for n in names if n is not None]


def links_json(links: list[Link], host: HostState, stats: bool) -> str:
    """A JSON list, one link per line: greppable, and json's C encoder (an indented dump runs in
    Python: 0.3 s of 2000 links' 0.6 s)."""
    if not links:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(link_record(lk, host, stats)) for lk in links) + "\n]"


def layer3_yaml(links: list[Link], host: HostState) -> dict[str, object]:
    """`routes` and `route-rules` of the links' namespace, when it was read with them; only the routes
    through the links shown when some are left out."""
    from linkctl.plan.convert_l3 import routes_of, rules_of

    names = {lk.name for lk in links}
    out: dict[str, object] = {}
    route_list: list[dict[str, object]] = []
    rule_list: list[dict[str, object]] = []
    for state in {lk.netns: host.ns(lk.netns) for lk in links}.values():
        if state.l3 is None:
            continue
        every = len(names) == len(state.links)
        routes = [r for r in routes_of(state) if every or r.next_hop_interface in names]
        rules = rules_of(state) if every else []
        route_list.extend(_entry_dump(r) for r in routes)
        rule_list.extend(_entry_dump(r) for r in rules)
    if route_list:
        out["routes"] = {"config": route_list}
    if rule_list:
        out["route-rules"] = {"config": rule_list}
    return out


def _entry_dump(entry: Section) -> dict[str, object]:
    return entry.model_dump(by_alias=True, exclude_none=True, mode="json")


def links_yaml(links: list[Link], host: HostState) -> str:
    data: dict[str, object] = {"interfaces": [dump_spec(spec_of(lk, host)) for lk in links]}
    data.update(layer3_yaml(links, host))
    import yaml  # here: `apply` of a prefetched file (cli/prefetch.py) never needs PyYAML

    # libyaml's emitter when PyYAML has it (the same safe representer feeds it): the
    # Python one took 1.2 s of 2000 links' 1.5 s.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False)


# The plan's text and JSON live in plan/text.py (the engine's rehearsal tells plans too);
# the front ends keep importing them from here.
__all__ = ["UNCHANGED_SHOWN", "link_record", "links_json", "links_yaml", "op_record", "plan_json", "plan_text"]
