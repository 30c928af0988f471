"""Writes linkctl.json, the Grafana dashboard for `linkctl watch --listen` (no dependency).

    python3 deploy/grafana/build.py        # rewrites deploy/grafana/linkctl.json

Each panel has one or more PromQL targets. Panels on node_exporter's series carry
"node_exporter" in their title; they show the same `device` on the same host (the
instance without its port: the exporters listen on different ports).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HOST = 'instance=~"$host(:[0-9]+)?"'
SEL = f'{HOST},device=~"$device"'
JOIN_HOST = '"host", "$1", "instance", "(.*?)(?::[0-9]+)?"'


def target(expr: str, legend: str, ref: str = "A", instant: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "expr": expr,
        "legendFormat": legend,
        "refId": ref,
    }
    if instant:
        out.update(instant=True, range=False, format="table")
    return out


def panel(kind: str, title: str, desc: str, targets: list[dict[str, Any]], grid: tuple[int, int, int, int], **extra: Any) -> dict[str, Any]:
    x, y, w, h = grid
    out: dict[str, Any] = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
    }
    out.update(extra)
    return out


def row(title: str, y: int) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []}


LINK = "{{instance}} {{netns}}/{{device}}"

PANELS: list[dict[str, Any]] = [
    row("Fleet", 0),
    panel(
        "stat",
        "Links flapping now",
        "Links with an open flap episode (linkctl's rate rule or Nagios percent state change), fleet-wide.",
        [target("sum(linkctl_link_flapping)", "flapping")],
        (0, 1, 6, 5),
        fieldConfig={"defaults": {"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}]}}},
    ),
    panel(
        "stat",
        "Watchers up",
        "Scrapes of linkctl watch that succeeded, out of all targets of job linkctl.",
        [target('sum(up{job="linkctl"})', "up", "A"), target('count(up{job="linkctl"})', "targets", "B")],
        (6, 1, 6, 5),
    ),
    panel(
        "stat",
        "Stores not writable",
        "Watchers whose store refuses commits (disk full, file replaced, database gone).",
        [target("count(linkctl_store_writable == 0) or vector(0)", "unwritable")],
        (12, 1, 6, 5),
    ),
    panel(
        "stat",
        "Carrier transitions (range)",
        "All carrier transitions the kernels counted over the dashboard's range.",
        [target("sum(increase(linkctl_network_carrier_changes_total[$__range]))", "transitions")],
        (18, 1, 6, 5),
    ),
    panel(
        "table",
        "Links flapping now, by host",
        "Every link with an open flap episode; run `linkctl diagnose DEVICE` on the host.",
        [target("linkctl_link_flapping == 1", LINK, instant=True)],
        (0, 6, 24, 6),
    ),
    row("Per host and link", 12),
    panel(
        "timeseries",
        "Carrier transitions per host/link",
        "Transitions the kernel counted (IFLA_CARRIER_CHANGES), also those coalesced into one notification.",
        [target(f"sum by (instance, netns, device) (increase(linkctl_network_carrier_changes_total{{{SEL}}}[$__rate_interval]))", LINK)],
        (0, 13, 12, 8),
    ),
    panel(
        "timeseries",
        "Down time per host/link",
        "Seconds spent down (clean down->up spans) in each interval.",
        [target(f"sum by (instance, netns, device) (increase(linkctl_link_down_duration_seconds_sum{{{SEL}}}[$__rate_interval]))", LINK)],
        (12, 13, 12, 8),
        fieldConfig={"defaults": {"unit": "s"}},
    ),
    panel(
        "timeseries",
        "Link down now",
        "1 while the link is not administratively up with carrier.",
        [target(f"1 - linkctl_network_up{{{SEL}}}", LINK)],
        (0, 21, 12, 8),
    ),
    panel(
        "timeseries",
        "Down spells, 90th percentile",
        "How long a link stays down when it goes down.",
        [target(f"histogram_quantile(0.9, sum by (le, instance, netns, device) (rate(linkctl_link_down_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))", LINK)],
        (12, 21, 12, 8),
        fieldConfig={"defaults": {"unit": "s"}},
    ),
    panel(
        "timeseries",
        "Flap episodes",
        "Flap episodes opened in each interval (since the watcher started: a restart resets the counter).",
        [target(f"sum by (instance, netns, device) (increase(linkctl_link_flap_episodes_total{{{SEL}}}[$__rate_interval]))", LINK)],
        (0, 29, 12, 8),
    ),
    panel(
        "state-timeline",
        "Flapping",
        "When each link had an open flap episode.",
        [target(f"linkctl_link_flapping{{{SEL}}}", LINK)],
        (12, 29, 12, 8),
    ),
    row("node_exporter, same host and device", 37),
    panel(
        "timeseries",
        "node_exporter: carrier changes",
        "node_network_carrier_changes_total for the same devices (host namespace only).",
        [target(f"sum by (instance, device) (increase(node_network_carrier_changes_total{{{SEL}}}[$__rate_interval]))", "{{instance}} {{device}}")],
        (0, 38, 12, 8),
    ),
    panel(
        "timeseries",
        "node_exporter: carrier and operstate",
        "node_network_carrier (1 = carrier) and node_network_up (operstate up).",
        [
            target(f"node_network_carrier{{{SEL}}}", "carrier {{instance}} {{device}}", "A"),
            target(f"node_network_up{{{SEL}}}", "up {{instance}} {{device}}", "B"),
        ],
        (12, 38, 12, 8),
    ),
    panel(
        "timeseries",
        "node_exporter: errors and drops",
        "Receive/transmit errors and drops per second on the same devices.",
        [
            target(f"rate(node_network_receive_errs_total{{{SEL}}}[$__rate_interval])", "rx errs {{instance}} {{device}}", "A"),
            target(f"rate(node_network_transmit_errs_total{{{SEL}}}[$__rate_interval])", "tx errs {{instance}} {{device}}", "B"),
            target(f"rate(node_network_receive_drop_total{{{SEL}}}[$__rate_interval])", "rx drop {{instance}} {{device}}", "C"),
            target(f"rate(node_network_transmit_drop_total{{{SEL}}}[$__rate_interval])", "tx drop {{instance}} {{device}}", "D"),
        ],
        (0, 46, 12, 8),
    ),
    panel(
        "timeseries",
        "node_exporter: traffic on flapping links",
        "Received bytes per second on the links linkctl says are flapping: the join on (host, device).",
        [
            target(
                f"label_replace(rate(node_network_receive_bytes_total{{{SEL}}}[$__rate_interval]), {JOIN_HOST})"
                f' * on (host, device) group_left () (label_replace(linkctl_link_flapping{{netns=""}}, {JOIN_HOST}) == 1)',
                "{{host}} {{device}}",
            )
        ],
        (12, 46, 12, 8),
        fieldConfig={"defaults": {"unit": "Bps"}},
    ),
]

TEMPLATING = {
    "list": [
        {"type": "datasource", "name": "datasource", "label": "Prometheus", "query": "prometheus"},
        {
            "type": "query",
            "name": "host",
            "label": "Host",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": "label_values(linkctl_network_up, instance)", "refId": "host"},
            "regex": "/^(.*?)(?::[0-9]+)?$/",
            "includeAll": True,
            "allValue": ".*",
            "multi": True,
            "refresh": 2,
        },
        {
            "type": "query",
            "name": "device",
            "label": "Device",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": 'label_values(linkctl_network_up{instance=~"$host(:[0-9]+)?"}, device)', "refId": "device"},
            "includeAll": True,
            "allValue": ".*",
            "multi": True,
            "refresh": 2,
        },
    ]
}


def dashboard() -> dict[str, Any]:
    for i, p in enumerate(PANELS, start=1):
        p["id"] = i
    return {
        "uid": "linkctl",
        "title": "linkctl: link flapping",
        "tags": ["linkctl", "network"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": TEMPLATING,
        "panels": PANELS,
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("linkctl.json")
    out.write_text(json.dumps(dashboard(), indent=2) + "\n", encoding="utf-8")
