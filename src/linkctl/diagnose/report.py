"""`linkctl diagnose IFACE`: the evidence, the ranked causes, the fixes by risk, what
only a person can check, and the proposed declarations (`--write-fix FILE`)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from linkctl.diagnose import flapping, kdebug
from linkctl.diagnose.causes import Cause, rank
from linkctl.diagnose.evidence import Evidence, Sources, gather
from linkctl.diagnose.findings import Severity
from linkctl.diagnose.flapping import FlapSigns
from linkctl.domain.fix import FileValue, Fix, Fragment, Risk
from linkctl.errors import LinkctlError
from linkctl.kernel import sysinfo
from linkctl.model.state import HostState, NetnsName


@dataclass
class Diagnosis:
    evidence: Evidence
    causes: list[Cause]
    flaps: FlapSigns
    bond_proposal: dict[str, FileValue] | None = None  # a declaration: file spelling, as --write-fix writes it
    debug: kdebug.DebugCapture | None = None

    @property
    def top(self) -> Cause:
        return self.causes[0]

    @property
    def severity(self) -> Severity:
        if self.top.verdict == "likely":
            return Severity.PROBLEM
        if self.top.verdict == "possible" or self.flaps.flapping:
            return Severity.WARNING
        return Severity.INFO

    @property
    def nothing_wrong(self) -> bool:
        """No cause likely or possible, not flapping, a carrier now and no link-down in the kernel log."""
        ev = self.evidence
        return self.severity is Severity.INFO and ev.link.carrier is True and ev.log.downs == 0

    def _acted_on(self) -> list[Cause]:
        """The likely and possible causes (else the top one); none for a healthy link, which is
        told so rather than handed the top "unlikely" cause's fixes."""
        if self.nothing_wrong:
            return []
        return [c for c in self.causes if c.verdict != "unlikely"] or self.causes[:1]

    def fixes(self) -> list[tuple[Cause, Fix]]:
        """The fixes of the causes acted on, lowest risk first."""
        pairs = [(c, f) for c in self._acted_on() for f in c.fixes]
        return sorted(pairs, key=lambda cf: (cf[1].risk_rank, -cf[0].score))

    def person_checks(self) -> list[str]:
        return list(dict.fromkeys(p for c in self._acted_on() for p in c.person_checks))

    def to_json(self) -> dict[str, object]:
        return {
            "ifname": self.evidence.ifname,
            "netns": self.evidence.netns,
            "severity": self.severity.value,
            "flaps": self.flaps.to_json(),
            "causes": [c.to_json() for c in self.causes],
            "fixes_by_risk": [{"cause": c.id, **f.to_json()} for c, f in self.fixes()],
            "person_checks": self.person_checks(),
            "bond_proposal": self.bond_proposal,
            "kernel_debug": self.debug.to_json() if self.debug else None,
            "evidence": self.evidence.to_json(),
        }


def flap_signs(ev: Evidence) -> FlapSigns:
    return FlapSigns(
        carrier_down_count=ev.link.carrier_down_count or 0,
        carrier_changes=ev.link.carrier_changes,
        log_link_down=ev.log.downs,
        log_source=ev.log.source,
        store_episodes=ev.store.episodes if ev.store is not None else None,
    )


def bond_proposal(ev: Evidence) -> dict[str, FileValue] | None:
    """Active-backup over this NIC and another, as the notes recommend for critical links."""
    if not ev.physical or not ev.other_nics:
        return None
    other = ev.other_nics[0]
    entry: dict[str, FileValue] = {
        "name": "bond0",
        "type": "bond",
        "state": "up",
        "link-aggregation": {
            "mode": "active-backup",
            "port": [ev.ifname, other],
            "options": {"miimon": 100, "primary": ev.ifname},
        },
    }
    if ev.netns:
        entry["netns"] = ev.netns
    return {"interfaces": [entry]}


def diagnose(
    ifname: str,
    netns: NetnsName,
    sources: Sources | None = None,
    host: HostState | None = None,
    kernel_debug: float | None = None,
) -> Diagnosis:
    ev = gather(ifname, netns, sources, host)
    capture = None
    if kernel_debug:
        if ev.driver is None or not ev.driver.driver:
            raise LinkctlError(f"--kernel-debug: the driver of {ifname} is unknown (ethtool -i failed)")
        roots = sources.roots if sources else sysinfo.ROOTS
        match = [ev.driver.driver, ifname] + ([ev.driver.bus_info] if ev.driver.bus_info else [])
        capture = kdebug.capture(ev.driver.driver, kernel_debug, roots, match=match)
        ev.debug_lines = capture.lines
    return Diagnosis(ev, rank(ev), flap_signs(ev), bond_proposal(ev), capture)


# -- output ---------------------------------------------------------------------------


def text(d: Diagnosis) -> str:
    ev = d.evidence
    where = f"{ev.ifname} (netns {ev.netns})" if ev.netns else ev.ifname
    out = [f"diagnose {where}: {d.severity.value}"]
    out += _evidence_lines(ev, d.flaps)
    out.append("")
    out.append("likely causes, most likely first:")
    for i, cause in enumerate(d.causes, 1):
        out.append(f"  {i}. {cause.title} [{cause.verdict}, score {cause.score}]")
        out += [f"       + {p.text}" for p in cause.evidence_for]
        out += [f"       - {p.text}" for p in cause.evidence_against]
        if not cause.evidence_for and not cause.evidence_against:
            out.append("       (no evidence either way)")
    out.append("")
    out.append("fixes, lowest risk first:")
    if d.nothing_wrong:
        log = "no link-down in the kernel log" if ev.log.available else "the kernel log not read"
        out.append(f"  none: nothing wrong was seen (a carrier, {log}, no cause likely)")
    fixes = d.fixes()
    for cause, fix in fixes:
        out.append(f"  [{fix.risk_rank.label}] {fix.text}  ({cause.id})")
        out += [f"        run: {shlex.join(c)}" for c in fix.commands]
    checks = d.person_checks()
    if not fixes and not d.nothing_wrong:
        out.append("  none linkctl can apply" + (": see what only a person can check" if checks else ""))
    if checks:
        out += ["", "only a person can check:"] + [f"  - {p}" for p in checks]
    if d.bond_proposal:
        out.append("")
        out.append("fallback: bond this NIC with another in active-backup (needs the bonding module;")
        out.append("the addresses move to bond0):")
        out += ["  " + line for line in yaml.safe_dump(d.bond_proposal, sort_keys=False).splitlines()]
    if d.debug:
        out.append("")
        note = " (interrupted)" if d.debug.interrupted else ""
        out.append(f"kernel debug of {d.debug.driver}{note}: {len(d.debug.lines)} line(s), debug switched off")
        out += [f"  {line}" for line in d.debug.lines[-50:]]
    if ev.unavailable:
        out.append("")
        out.append("not available:")
        out += [f"  - {k}: {v}" for k, v in ev.unavailable.items()]
    return "\n".join(out)


def _evidence_lines(ev: Evidence, flaps: FlapSigns) -> list[str]:
    out = ["", "evidence:"]
    st, drv = ev.settings, ev.driver
    link = ev.link
    out.append(
        f"  link: {link.operstate.label}, carrier {link.carrier}, "
        f"carrier changes {link.carrier_changes} (down {link.carrier_down_count})"
    )
    if st:
        speed = f"{st.speed} Mb/s {st.duplex}" if st.speed is not None else "speed and duplex unknown (no PHY)"
        out.append(f"  ethtool: {speed}, autoneg {st.autoneg}, port {st.port}")
        out.append(f"  advertised: {' '.join(st.advertised_modes) or '-'}")
        out.append(f"  partner:    {' '.join(st.partner_modes) or '-'}")
    if ev.eee:
        out.append(f"  EEE: supported {ev.eee.supported}, enabled {ev.eee.enabled}, active {ev.eee.active}")
    if ev.pause:
        out.append(f"  pause: autoneg {ev.pause.autoneg}, rx {ev.pause.rx}, tx {ev.pause.tx}")
    if drv:
        out.append(f"  driver: {drv.driver} {drv.version or ''}, firmware {drv.firmware}, bus {drv.bus_info}")
    if ev.features:
        keys = ("rx-checksumming", "tx-checksumming", "tcp-segmentation-offload", "generic-receive-offload")
        out.append(
            "  offloads: "
            + ", ".join(f"{k} {'on' if ev.features[k].active else 'off'}" for k in keys if k in ev.features)
        )
    errors = {
        k: v
        for k, v in ev.statistics.items()
        if v and any(w in k for w in ("err", "drop", "fail", "coll", "timeout", "miss"))
    }
    if errors:
        out.append("  driver counters: " + ", ".join(f"{k}={v}" for k, v in sorted(errors.items())))
    if ev.interrupts:
        out.append("  interrupts: " + ", ".join(f"{i.name}={i.total}" for i in ev.interrupts))
    log = ev.log
    speeds = ", ".join(f"{s} Mb/s x{n}" for s, n in sorted(log.up_speeds.items()))
    if not log.available:  # its source says why; counts of a log not read would read as none found
        out.append(f"  kernel log: {log.source}")
    else:
        flow = ", ".join(f"{f} x{n}" for f, n in sorted(log.flow_control.items()))
        out.append(
            f"  kernel log ({log.source}): {log.downs} down, {log.ups} up"
            + (f" [{speeds}]" if speeds else "")
            + (f" flow control [{flow}]" if flow else "")
            + f", {log.watchdog} watchdog, {log.unit_hang} unit hang, {log.resets} resets, {log.dma} DMA, {log.aer} AER"
        )
        if log.down_seconds:
            lasted = ", ".join(f"{s:.2f}" for s in log.down_seconds[:10])
            more = f" and {len(log.down_seconds) - 10} more" if len(log.down_seconds) > 10 else ""
            out.append(
                f"    down for {lasted} s{more} (min {min(log.down_seconds):.2f}, max {max(log.down_seconds):.2f})"
            )
        if log.before_since:
            out.append(
                f"    and {log.before_since} link event(s) of {ev.ifname} older than --since, not counted: "
                "give a longer --since (e.g. 365d) or an ISO time"
            )
    episodes = flaps.store_episodes if flaps.store_episodes is not None else "not available"
    out.append(f"  watch store: flap episodes {episodes}")
    out.append(f"  repeated carrier loss: {'yes' if flaps.flapping else 'no'} ({flapping.WORDS})")
    if not ev.physical:
        out.append(
            f"  {ev.ifname} is a virtual link: cable, PHY and duplex causes do not apply; "
            "look at its peer or lower link"
        )
    return out


def proposes(d: Diagnosis) -> bool:
    """Whether any cause comes with a declaration for `--write-fix` to write."""
    return any(fix.declaration is not None for _cause, fix in d.fixes())


def fix_file(d: Diagnosis) -> str:
    """The proposed declarations (low and medium risk), higher-risk ones as comments: the file
    `--write-fix` writes."""
    first: dict[str, FileValue] = {"name": d.evidence.ifname}
    if d.evidence.netns:
        first["netns"] = d.evidence.netns
    # One entry per interface: a fix may be for another link (a virtual link's peer).
    entries = {(d.evidence.ifname, d.evidence.netns): first}
    modules: dict[str, FileValue] = {}
    held: list[str] = []
    for cause, fix in d.fixes():
        if fix.declaration is None:
            continue
        if fix.risk_rank >= Risk.HIGH:
            held.append(f"[{fix.risk_rank.label}] {fix.text} ({cause.id})")
            held += yaml.safe_dump(fix.declaration.to_data(), sort_keys=False).splitlines()
            continue
        _merge(entries, modules, fix.declaration)
    changed = [e for e in entries.values() if set(e) - {"name", "netns"}]
    doc: dict[str, FileValue] = {"interfaces": changed or [first]}
    if modules:
        doc["kernel-modules"] = modules
    body = yaml.safe_dump(doc, sort_keys=False)
    head = [
        f"# Proposed by `linkctl diagnose {d.evidence.ifname}`: top cause {d.top.id} ({d.top.verdict}).",
        "# Review, then `linkctl plan THIS-FILE` and `linkctl apply THIS-FILE`.",
    ]
    tail = ["", "# Higher risk, not applied unless uncommented:"] + [f"# {h}" for h in held] if held else []
    if d.bond_proposal:
        tail += ["", "# Fallback (bonding module needed; addresses move to bond0):"]
        tail += [f"# {line}" for line in yaml.safe_dump(d.bond_proposal, sort_keys=False).splitlines()]
    return "\n".join(head) + "\n" + body + "\n".join(tail) + ("\n" if tail else "")


def _merge(
    entries: dict[tuple[str, NetnsName], dict[str, FileValue]], modules: dict[str, FileValue], decl: Fragment
) -> None:
    for iface in decl.interfaces:
        key = (iface.name, iface.netns or None)
        entry = entries.setdefault(key, {k: v for k, v in iface.to_data().items() if k in ("name", "netns")})
        for name, value in iface.settings.items():
            if isinstance(value, Mapping):
                _deep(_mapping(entry.setdefault(name, {})), value)
            else:
                entry[name] = value
    for module in decl.modules:
        _deep(modules, {module.module: module.to_data()})


def _mapping(value: FileValue) -> dict[str, FileValue]:
    assert isinstance(value, dict)  # what _merge and _deep put under a key they merge into
    return value


def _deep(into: dict[str, FileValue], add: Mapping[str, FileValue]) -> None:
    for key, value in add.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep(_mapping(into[key]), value)
        else:
            into.setdefault(key, value)
