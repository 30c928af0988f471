"""Ranking the likely causes of an unstable link, each with the evidence for and against.

The causes are those the operators' notes name: a cable or switch port, power saving
(EEE, ASPM, SmartPowerDown), the driver or firmware, a duplex mismatch, interference.
Each rule adds a weight for what points to its cause and subtracts one for what points
away; the weights are judgement, written down so that they can be argued with. Evidence
that could not be read counts neither way. The fixes of each cause are ordered by risk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from linkctl.diagnose import flapping
from linkctl.diagnose.evidence import Evidence
from linkctl.domain.fix import Fix, Fragment, Risk

CRC_STATS = (
    "rx_crc_errors",
    "rx_align_errors",
    "rx_symbol_err",
    "rx_symbol_errors",
    "rx_frame_errors",
    "rx_crc_errors_phy",
    "rx_length_errors",
    "rx_fcs_errors",
)
COLLISION_STATS = (
    "tx_single_coll_ok",
    "tx_multi_coll_ok",
    "tx_late_coll",
    "late_collisions",
    "tx_late_collisions",
    "tx_multi_coll",
    "tx_single_coll",
    "collisions",
    "tx_excess_coll",
)
LATE_STATS = ("tx_late_coll", "late_collisions", "tx_late_collisions", "tx_abort_late_coll")
TX_TIMEOUT_STATS = ("tx_timeout_count", "tx_timeout")

# Driver/firmware versions with a record of Tx hangs. Kept short and explained; a version
# here is a reason to look for an update, not a verdict.
KNOWN_BAD: dict[tuple[str, str], str] = {
    ("e1000e", "3.2.6-k"): "widely reported with 'Detected Hardware Unit Hang' on I217/I218/I219 "
    "under TSO (the workaround is `ethtool -K IFACE tso off gso off`)",
    ("e1000e", "2.3.2-k"): "old in-tree version with EEE/ULP link-loss problems on I217/I218",
}


@dataclass(frozen=True)
class Point:
    text: str
    weight: float
    values: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "weight": self.weight, "values": self.values}


@dataclass
class Cause:
    id: str
    title: str
    evidence_for: list[Point] = field(default_factory=list)
    evidence_against: list[Point] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    person_checks: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        raw = sum(p.weight for p in self.evidence_for) - sum(p.weight for p in self.evidence_against)
        return round(max(raw, 0.0), 2)

    @property
    def verdict(self) -> str:
        if self.score >= 3:
            return "likely"
        return "possible" if self.score >= 1.5 else "unlikely"

    def pro(self, text: str, weight: float, **values: object) -> None:
        self.evidence_for.append(Point(text, weight, values))

    def con(self, text: str, weight: float, **values: object) -> None:
        self.evidence_against.append(Point(text, weight, values))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "verdict": self.verdict,
            "evidence_for": [p.to_json() for p in self.evidence_for],
            "evidence_against": [p.to_json() for p in self.evidence_against],
            "fixes": [f.to_json() for f in sorted(self.fixes, key=lambda f: f.risk_rank)],
            "person_checks": self.person_checks,
        }


def _crc(ev: Evidence) -> int:
    return ev.stat(*CRC_STATS)


def _eth(ev: Evidence, *args: str) -> tuple[str, ...]:
    base = ("ip", "netns", "exec", ev.netns, "ethtool") if ev.netns else ("ethtool",)
    return (*base, *args)


def cable(ev: Evidence) -> Cause:
    c = Cause("cable-or-switch-port", "the cable or the switch port")
    crc = _crc(ev)
    speeds = sorted(ev.log.up_speeds)
    if crc:
        c.pro(
            f"{crc} CRC/alignment/symbol errors: frames damaged on the wire", 2.0 + min(crc / 1000, 1.0), crc_errors=crc
        )
    elif ev.has_counters:
        c.con("no CRC or alignment errors: the frames that arrive are intact", 1.0, crc_errors=0)
    if len(speeds) > 1:
        c.pro(
            f"the link came up at different speeds: {', '.join(map(str, speeds))} Mb/s "
            "(renegotiation on a marginal cable)",
            2.5,
            speeds=speeds,
        )
    elif len(speeds) == 1 and ev.log.ups >= 3:
        c.con(f"every one of {ev.log.ups} link-ups was at {speeds[0]} Mb/s", 0.5, speeds=speeds)
    st = ev.settings
    best = st.best_common() if st else None
    if st and best and st.speed and st.speed < best[0]:
        c.pro(f"running at {st.speed} Mb/s although both ends advertise {best[0]}", 2.0, speed=st.speed, best=best[0])
    if st and st.link_detected is False:
        c.pro("no link detected right now", 1.0)
    c.person_checks += [
        "swap the patch cable for a known-good one (Cat6/Cat6a; shielded if it runs near power)",
        "move the link to another switch port, and read that port's error counters on the switch",
        "reseat or swap the SFP/transceiver if there is one",
    ]
    c.fixes += [
        Fix(
            risk=Risk.NONE,
            text="restart autonegotiation and watch which speed it comes up at",
            commands=(_eth(ev, "-r", ev.ifname),),
        ),
        Fix(
            risk=Risk.HIGH,
            text="as a stopgap, advertise only 100 Mb/s, which needs two pairs instead of four "
            "(halves throughput tenfold)",
            commands=(_eth(ev, "-s", ev.ifname, "autoneg", "on", "speed", "100", "duplex", "full"),),
            declaration=Fragment.interface(
                ev.ifname, ev.netns, ethernet={"auto-negotiation": True, "speed": 100, "duplex": "full"}
            ),
        ),
    ]
    return c


def power(ev: Evidence) -> Cause:
    c = Cause("power-saving", "power saving: EEE, PCIe ASPM, SmartPowerDown")
    eee = ev.eee
    if eee is not None and eee.supported:
        if eee.active:
            c.pro(
                "EEE is enabled and active: the PHY enters low-power idle when the line is quiet",
                2.5,
                eee="enabled - active",
            )
        elif eee.enabled:
            c.pro("EEE is enabled (not active now: the partner may not agree)", 1.5, eee="enabled - inactive")
        else:
            c.con("EEE is disabled", 1.5, eee="disabled")
    elif eee is not None:
        c.con("the driver has no EEE", 1.0)
    spd = ev.module_params.get("SmartPowerDownEnable")
    if spd is not None and spd.value not in (None, "0", "N"):
        c.pro("SmartPowerDown is enabled in the driver", 1.5, SmartPowerDownEnable=spd.value)
    policy = ev.aspm.get("policy")
    if policy in ("powersave", "powersupersave"):
        c.pro(f"PCIe ASPM policy is {policy}", 1.0, policy=policy)
    elif policy == "performance":
        c.con("PCIe ASPM policy is performance", 0.5, policy=policy)
    if ev.aspm.get("l1_aspm") == "1":
        c.pro("the NIC's PCIe link may enter L1", 0.5, l1_aspm="1")
    if flapping.by_log(ev.log.downs) and len(ev.log.up_speeds) <= 1 and ev.has_counters and not _crc(ev):
        c.pro(
            "flaps that come back at the same speed without CRC errors fit an idle-related drop",
            0.5,
            downs=ev.log.downs,
        )
    c.person_checks.append('turn off EEE ("green Ethernet") on the switch port too')
    c.fixes.append(
        Fix(
            risk=Risk.LOW,
            text="turn EEE off (the link renegotiates once)",
            commands=(_eth(ev, "--set-eee", ev.ifname, "eee", "off"),),
            declaration=Fragment.interface(ev.ifname, ev.netns, ethtool={"eee": {"enabled": False}}),
        )
    )
    drv = ev.driver.driver if ev.driver else None
    if drv == "e1000e":
        c.fixes.append(_module_fix(ev, "disable SmartPowerDown in the e1000e module", "SmartPowerDownEnable", 0))
    c.fixes.append(
        Fix(
            risk=Risk.MEDIUM,
            text="stop PCIe link power saving: write `performance` to "
            "/sys/module/pcie_aspm/parameters/policy, or boot with pcie_aspm=off",
        )
    )
    return c


def _module_fix(ev: Evidence, text: str, param: str, value: int) -> Fix:
    """A parameter of the NIC's driver: a `kernel-modules:` declaration (modprobe.d) for a module, the
    kernel command line for a driver built in, which never loads (apply refuses that declaration)."""
    drv = ev.driver.driver if ev.driver else "DRIVER"
    if ev.driver_builtin:
        return Fix(risk=Risk.MEDIUM, text=f"{text}: {drv} is built into this kernel: boot with {drv}.{param}={value}")
    return Fix(
        risk=Risk.MEDIUM,
        text=f"{text} (takes effect when the module reloads: at the next boot)",
        declaration=Fragment.module(drv, **{param: value}),
    )


def driver(ev: Evidence) -> Cause:
    c = Cause("driver-or-firmware", "the driver or the NIC's firmware")
    log = ev.log
    if log.watchdog:
        c.pro(f"{log.watchdog} NETDEV WATCHDOG transmit timeouts", 2.5, watchdog=log.watchdog)
    if log.unit_hang:
        c.pro(f"{log.unit_hang} Tx/Hardware Unit Hang reports", 2.5, unit_hang=log.unit_hang)
    if log.resets:
        c.pro(f"{log.resets} adapter resets in the log", 1.0, resets=log.resets)
    timeouts = ev.stat(*TX_TIMEOUT_STATS)
    if timeouts:
        c.pro(f"the driver counts {timeouts} transmit timeouts", 1.5, tx_timeouts=timeouts)
    aer = ev.pci_errors.get("nonfatal", 0) + ev.pci_errors.get("fatal", 0)
    if aer or log.aer:
        c.pro("PCIe AER errors for the NIC", 1.5, aer_counters=ev.pci_errors, aer_lines=log.aer)
    if log.dma:
        c.pro(f"{log.dma} DMA/IOMMU error lines naming the NIC", 1.5, dma_lines=log.dma)
    known = _known_bad(ev)
    if known:
        c.pro(f"driver {known[0]} {known[1]}: {known[2]}", 2.0, driver=known[0], version=known[1])
    if log.available and not (log.watchdog or log.unit_hang or log.resets or log.dma or log.aer):
        c.con("no watchdog, hang, reset, DMA or AER lines in the kernel log", 1.5)
    _driver_fixes(c, ev)
    return c


def _known_bad(ev: Evidence) -> tuple[str, str, str] | None:
    if not ev.driver or not ev.driver.version:
        return None
    why = KNOWN_BAD.get((ev.driver.driver, ev.driver.version))
    return (ev.driver.driver, ev.driver.version, why) if why else None


def _driver_fixes(c: Cause, ev: Evidence) -> None:
    name = ev.driver.driver if ev.driver else "DRIVER"
    version = ev.driver.version if ev.driver else "?"
    firmware = ev.driver.firmware if ev.driver else "?"
    c.fixes += [
        Fix(
            risk=Risk.LOW,
            text="turn TSO/GSO off: the usual workaround for Tx unit hangs (costs some CPU)",
            commands=(_eth(ev, "-K", ev.ifname, "tso", "off", "gso", "off"),),
            declaration=Fragment.interface(
                ev.ifname,
                ev.netns,
                ethtool={"feature": {"tx-tcp-segmentation": False, "tx-generic-segmentation": False}},
            ),
        ),
    ]
    # Only the coalescing keys this driver reports: e1000e has rx-usecs but no tx-usecs.
    keys: dict[str, int] = {k: 100 for k in ("rx-usecs", "tx-usecs") if ev.coalesce and k in ev.coalesce}
    if keys:
        words = [w for k, v in keys.items() for w in (k, str(v))]
        c.fixes.append(
            Fix(
                risk=Risk.MEDIUM,
                text="moderate interrupts (fewer, larger batches) as the notes suggest",
                commands=(_eth(ev, "-C", ev.ifname, *words),),
                declaration=Fragment.interface(ev.ifname, ev.netns, ethtool={"coalesce": keys}),
            )
        )
    if name == "e1000e":
        c.fixes.append(_module_fix(ev, "e1000e InterruptThrottleRate=3000", "InterruptThrottleRate", 3000))
    c.fixes.append(Fix(risk=Risk.HIGH, text="update the kernel/driver and the NIC firmware (a reboot)"))
    c.person_checks.append(f"look up driver {name} {version}, firmware {firmware} in the vendor's errata")


def duplex(ev: Evidence) -> Cause:
    c = Cause("duplex-mismatch", "a duplex mismatch (one end forced, the other autonegotiating)")
    st = ev.settings
    if st and st.duplex == "half":
        c.pro(f"this end runs half duplex at {st.speed} Mb/s", 2.5, duplex="half", speed=st.speed)
    if st and st.autoneg is False and ev.physical and st.supports_autoneg is not False and st.speed is not None:
        c.pro(
            "autonegotiation is off here: a partner that autonegotiates falls back to half duplex", 1.5, autoneg=False
        )
    elif st and st.speed is None and st.duplex is None:
        # virtio_net, vmxnet3, hv_netvsc...: no PHY, nothing negotiates a duplex.
        c.con("the driver reports no speed or duplex: a paravirtual NIC has no PHY to mismatch", 3.0)
    if st and st.partner_autoneg is False:
        c.pro("the link partner does not autonegotiate", 1.5, partner_autoneg=False)
    late = ev.stat(*LATE_STATS)
    coll = ev.stat(*COLLISION_STATS)
    if late:
        c.pro(f"{late} late collisions: the classic duplex mismatch signature", 2.5, late_collisions=late)
    elif coll and st and st.duplex == "full":
        c.pro(
            f"{coll} collisions on a full-duplex link (impossible unless the partner is half duplex)",
            2.0,
            collisions=coll,
        )
    if _crc(ev) and st and st.autoneg is False:
        c.pro("CRC errors with autonegotiation off", 1.0)
    if ev.log.up_duplex.get("half"):
        c.pro(f"the log shows {ev.log.up_duplex['half']} link-ups at half duplex", 2.0)
    if st and st.autoneg and st.duplex == "full" and st.partner_autoneg is not False:
        c.con("both ends autonegotiate and the link is full duplex", 2.0)
    c.person_checks.append("read the switch port's speed/duplex setting: both ends auto, or both forced to the same")
    c.fixes += [
        Fix(
            risk=Risk.MEDIUM,
            text="autonegotiate on this end (and on the switch port at the same time)",
            commands=(_eth(ev, "-s", ev.ifname, "autoneg", "on"),),
            declaration=Fragment.interface(ev.ifname, ev.netns, ethernet={"auto-negotiation": True}),
        ),
        Fix(
            risk=Risk.HIGH,
            text="if the switch port must stay forced, force this end to the same (1000 Mb/s full shown)",
            commands=(_eth(ev, "-s", ev.ifname, "speed", "1000", "duplex", "full", "autoneg", "off"),),
            declaration=Fragment.interface(
                ev.ifname, ev.netns, ethernet={"auto-negotiation": False, "speed": 1000, "duplex": "full"}
            ),
        ),
    ]
    return c


def interference(ev: Evidence) -> Cause:
    c = Cause("interference", "electrical interference (EMI/RFI) or grounding")
    crc = _crc(ev)
    port = (ev.settings.port or "") if ev.settings else ""
    if crc and len(ev.log.up_speeds) <= 1:
        c.pro("CRC errors without speed changes: bursts of damage on an otherwise good link", 1.0, crc_errors=crc)
    if "Twisted Pair" in port and crc:
        c.pro("copper link (twisted pair picks up interference)", 0.5, port=port)
    if "FIBRE" in port.upper():
        c.con("fibre does not pick up electrical interference", 2.0, port=port)
    if not crc and ev.has_counters:
        c.con("no CRC errors", 1.5)
    c.person_checks += [
        "check the cable's route for power cables, motors, fluorescent ballasts, UPSes",
        "check the rack's grounding; use shielded Cat6a grounded at one end",
    ]
    c.fixes.append(Fix(risk=Risk.HIGH, text="re-cable with shielded Cat6a on another route (a person's job)"))
    return c


RULES: tuple[Callable[[Evidence], Cause], ...] = (cable, power, driver, duplex, interference)


def rank(ev: Evidence) -> list[Cause]:
    """The causes, most likely first; ties keep the notes' order (cable is most common).

    A virtual link has no cable, PHY or driver power saving: its carrier follows
    the links it depends on, and only that is weighed.
    """
    if not ev.physical:
        return [dependency(ev)]
    causes = [rule(ev) for rule in RULES]
    return sorted(causes, key=lambda c: -c.score)


def dependency(ev: Evidence) -> Cause:
    c = Cause("depends-on", "the link it depends on: its veth peer, its lower link or its bridge ports")
    downs = ev.link.carrier_down_count or 0
    if ev.dependency is not None:
        fix = ev.dependency.fix
        c.pro(ev.dependency.message, 4.0)
        if fix.declaration is not None:
            (entry,) = fix.declaration.interfaces
            c.fixes.append(fix.ranked(Risk.LOW, f"bring {entry.name} up"))
        elif fix.note:  # nothing to declare, but where to look (a bridge's ports, a lower link up already)
            c.fixes.append(fix.ranked(Risk.NONE, fix.note))
    elif ev.link.carrier:
        c.con("it has a carrier now", 1.0)
    if downs >= 2:
        c.pro(f"{downs} carrier losses: what it depends on went down and up again", 2.0, carrier_down_count=downs)
    c.person_checks += [
        "look at what manages the other end (a container runtime, a CNI plugin, a VM): it may be restarting",
        f"`linkctl history` of {ev.ifname} and of its peer or lower link shows which went down first",
    ]
    return c
