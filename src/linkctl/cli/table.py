"""`linkctl show` as a table (rich), like `ip -br -d link` with the kind data."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from linkctl.cli.render import link_record
from linkctl.model.state import HostState, Link


def print_links(links: list[Link], host: HostState, stats: bool) -> None:
    table = Table(box=None, header_style="bold")
    cols = ["IFACE", "TYPE", "STATE", "OPER", "MTU", "MAC", "MASTER", "QLEN", "DETAILS"]
    if stats:
        cols += ["RX bytes/pkts/err/drop/ovr", "TX bytes/pkts/err/drop"]
    for col in cols:
        table.add_column(col, overflow="fold")
    for link in links:
        table.add_row(*_row(link_record(link, host, stats), stats))
    console = Console()
    if not console.is_terminal:
        console = Console(width=220)  # piped output: one line per link, no folding
    console.print(table)


def _row(rec: dict[str, object], stats: bool) -> list[str]:
    state = str(rec["admin_state"]).upper()
    if rec["no_carrier"]:
        state += ",NO-CARRIER"
    if rec["promisc"]:
        state += ",PROMISC"
    mtu = f"{rec['mtu']}"
    if rec["max_mtu"]:
        mtu += f" ({rec['min_mtu']}-{rec['max_mtu']})"
    info = rec["info"] if isinstance(rec["info"], dict) else {}
    details = " ".join(f"{k}={_short(v, k)}" for k, v in info.items() if v not in (None, [], {}))
    row = [
        str(rec["name"]), str(rec["type"]), state, str(rec["operstate"]), mtu,
        str(rec["mac"] or ""), str(rec["master"] or ""), str(rec["txqueuelen"]), details,
    ]  # fmt: skip
    if stats and isinstance(rec.get("stats"), dict):
        s = rec["stats"]
        assert isinstance(s, dict)
        row.append(f"{s['rx_bytes']}/{s['rx_packets']}/{s['rx_errors']}/{s['rx_dropped']}/{s['rx_over_errors']}")
        row.append(f"{s['tx_bytes']}/{s['tx_packets']}/{s['tx_errors']}/{s['tx_dropped']}")
    return row


def _short(value: object, key: str = "") -> str:
    if key == "peer_netns" and value == "":
        return "(host)"  # the host's own namespace has no `ip netns` name
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
