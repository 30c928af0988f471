"""Kernel log lines as they were pasted into public bug reports, mailing lists and forums.

`corpus/real_world.jsonl` holds one real line a record, copied as the reporter pasted it
(capture prefix and all), labelled by hand: its event (link_down, link_up, watchdog or
other), and for an event its link and fields; `source` names where it was found. The
uptime label is the bracketed number of the line, copied mechanically.

The corpus is split by source with a fixed seed, so that every line of one report lands
in the same half. The recognisers were written from the drivers' format strings and from
the first half only; the second half is scored here as data they have never seen.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linkctl.domain.events import EventKind
from linkctl.logs.capture import YearHint
from linkctl.logs.lines import parse_line

CORPUS = Path(__file__).parent / "corpus" / "real_world.jsonl"
SEED = 19  # the number: chosen before any figure was seen, never changed after
RECORDS: list[dict[str, Any]] = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines()]
FIELDS = ("ifname", "speed_mbps", "duplex", "flow_control", "uptime")
TARGET_RECALL, TARGET_PRECISION, TARGET_FIELDS = 0.98, 0.99, 0.97
# Measured once on the unseen half, blind: recall 0.946 (53/56), precision 1.000, fields
# 1.000. The three misses are two capture formats no seen line showed (talosctl's "kern:
# err: [RFC 3339]: " and a vendor kernel's "[c0]" CPU tag after the uptime). Teaching them
# from those lines turned the unseen half into a seen one: they were taught afterwards (it
# now scores 1.000, a figure that proves nothing), and the recall asserted here stays the
# blind one, below the 0.98.
REACHED_UNSEEN_RECALL = 0.94
# `real_world_holdout.jsonl`: 22 further reports, collected after the recognisers were
# frozen (commit cf2f042) and scored once, blind: recall 0.833 (20/24), precision 1.000,
# fields 1.000. Its misses (Qualcomm NSS "PHY Link up speed: N", aqc111 "Link Speed N, USB
# N", Broadcom's xDSL "Line 0: xDSL link down") were taught afterwards, from the drivers'
# format strings (nss-dp, aqc111.c, the xDSL driver's BcmAdsl_Status): it now scores 1.000,
# which proves nothing; the recall asserted stays the blind one.
HOLDOUT = CORPUS.with_name("real_world_holdout.jsonl")
REACHED_HOLDOUT_RECALL = 0.83
# `real_world_holdout2.jsonl`: 31 further reports (none a source of the files above), collected
# and labelled after the recognisers were frozen at commit 2957cfe, scored once, blind: recall
# 0.903 (28/31), precision 1.000 (28/28), fields 1.000 (140/140). Its three misses are capture
# forms, not kernel formats: console text before the uptime ("11 printk messages dropped ** ",
# a shell prompt "root@OpenWrt:/# " where the console printed during a command), and a journal
# line "HOST kernel: " with no time before it (pasted from an issue's title). They were taught
# afterwards (capture.py): it now scores 1.000, which proves nothing; the recall asserted stays
# the blind one.
HOLDOUT2 = CORPUS.with_name("real_world_holdout2.jsonl")
REACHED_HOLDOUT2_RECALL = 0.90
# `real_world_holdout3.jsonl`: 17 further reports, collected after the recognisers were frozen
# again (commit 9323215, the second holdout's forms taught), scored once, blind: recall 0.867
# (13/15), precision 1.000 (13/13), fields 1.000 (65/65). Its misses: a shell prompt with a
# half-typed command before the uptime, and pcnet32's own "transmit timed out, status ...";
# taught afterwards (capture.py, rules_nic.py): it now scores 1.000, which proves nothing.
HOLDOUT3 = CORPUS.with_name("real_world_holdout3.jsonl")
REACHED_HOLDOUT3_RECALL = 0.86
# `real_world_holdout4.jsonl`: 146 lines from 69 further sources (53 events), collected and labelled
# under rules fixed beforehand (corpus/README.md), after the recognisers were generalised from the
# families of the earlier misses and from the drivers' format strings and frozen (commit 7a48943);
# scored once, blind: recall 0.943 (50/53), precision 0.980 (50/51), fields 1.000 (250/250), below
# the targets. Its misses: a code block's line-number gutter ("1 | Sep 08 ... Hang: |") and two
# uptimes the writer masked ("[xxxxxx]"); its false positive: a sentence quoting a PHY's message
# read as a PHY driver's prefix. Taught afterwards by family (capture.py's gutter and masked
# uptimes, recognise.py's PHY driver names): it now scores 1.000, which proves nothing.
HOLDOUT4 = CORPUS.with_name("real_world_holdout4.jsonl")
REACHED_HOLDOUT4_RECALL = 0.94
# `real_world_holdout5.jsonl`: 142 lines from 57 further sources (53 events), collected and labelled
# under the rules written before collection (corpus/README.md, "fifth holdout"), after the paste-damage
# round was frozen (commit 1aa7ec5); scored once, blind: recall 0.849 (45/53), precision 1.000 (45/45),
# fields 1.000 (225/225), below the recall target. The recognisers from before that round (2b83bce)
# score it 0.830 (44/53). Its misses are listed in corpus/README.md. Taught afterwards by family (a shell
# prompt before a stampless kernel line, NC-SI's link, an OCR'd uptime bracket): it scores 0.943 (50/53),
# which proves nothing; the two OCR'd lines' damaged device and "IX", and a hand-typed "Detected Tx
# Hung", stay missed.
HOLDOUT5 = CORPUS.with_name("real_world_holdout5.jsonl")
REACHED_HOLDOUT5_RECALL = 0.84
# `real_world_holdout6.jsonl`: 263 lines from 83 further sources (84 events), collected and labelled by
# two others under the rules written before collection (corpus/README.md, "sixth holdout") while this
# round's recognisers were changed by engineers who never read them; scored once, blind, at df58fb0:
# recall 0.940 (79/84), precision 0.952 (79/83), fields 0.997 (394/395). Taught afterwards by family
# (a counter in a statistics dump, a unit hang without a device, a two-state summary, i40e's recovery
# words alone, a PHY driver's "FUNCTION, link down", OpenWrt's bcm63xx "phy link", a twelve-digit
# uptime): it scores 1.000, which proves nothing.
HOLDOUT6 = CORPUS.with_name("real_world_holdout6.jsonl")
REACHED_HOLDOUT6_RECALL = 0.94
# `real_world_holdout7.jsonl`: 266 lines from 97 further sources (79 events), collected and labelled by
# two others under the seventh holdout's rules while the recognisers changed unseen (a survey of
# drivers outside mainline, precision guards from text without kernel lines); scored once, blind, at
# b367991: recall 0.962 (76/79), precision 0.974 (76/78), fields 0.995 (378/380). Taught afterwards by
# family (old drivers' "PFX IFNAME: ", a function's name after "DRIVER: IFNAME: ", a line opening with
# a Linux netdev name, a BSD interface name as another system's): it scores 1.000, which proves nothing.
HOLDOUT7 = CORPUS.with_name("real_world_holdout7.jsonl")
REACHED_HOLDOUT7_RECALL = 0.96
# `real_world_holdout8.jsonl`: 287 lines from 96 further sources (79 events; older reports, boards and
# routers), collected and labelled by two others under the eighth holdout's rules while older kernels'
# drivers were surveyed unseen; scored once, blind, at c4d19ae: recall 0.911 (72/79), precision 0.973
# (72/74), fields 0.975 (351/360). Taught afterwards by family (a glued diff marker, an old link-beat
# line, "IFNAME: status: ", a paragraph of joined records, U-Boot's port line as other): it scores
# 0.949 (75/79); three vendor one-offs and a mail's "# "-joined paragraph stay missed.
HOLDOUT8 = CORPUS.with_name("real_world_holdout8.jsonl")
REACHED_HOLDOUT8_RECALL = 0.91
# `real_world_holdout9.jsonl`: 89 lines from 27 further sources (14 events: the search corpora are nearly
# spent), collected under the ninth holdout's rules with nothing taught meanwhile; scored once, blind,
# at 6a1ba4f: recall 0.786 (11/14), precision 1.000 (11/11), fields 1.000 (55/55). Taught afterwards by
# family (a letter glued to the uptime's bracket, records joined without stamps behind one prefix): it
# scores 1.000, which proves nothing.
HOLDOUT9 = CORPUS.with_name("real_world_holdout9.jsonl")
REACHED_HOLDOUT9_RECALL = 0.78
# `real_world_holdout10.jsonl`: 285 lines from 69 further sources (71 events), kernel logs kept as files
# in public repositories (boards' and routers' boot logs, hosts' kern.log, 24 of linux-hardware.org's
# probes), collected under the tenth holdout's rules while vendors' SDK drivers were surveyed unseen;
# scored once, blind, at 08dc8e9: recall 1.000 (71/71), precision 1.000 (71/71), fields 1.000 (355/355).
# The session's starting recognisers (4dab7f5) score the same: whole logs print the common drivers'
# format strings, which the surveys cover; the reports' pastes are where the misses were.
HOLDOUT10 = CORPUS.with_name("real_world_holdout10.jsonl")
REACHED_HOLDOUT10_RECALL = 1.0
# `real_world_holdout11.jsonl`: 277 lines from 63 further sources (89 events), the same kinds of files
# with 40 of linux-hardware.org's probes, collected under the eleventh holdout's rules; scored once,
# blind, at e05d1f3: recall 0.966 (86/89), precision 0.989 (86/87), fields 1.000 (430/430). Taught
# afterwards by family: journalctl's short-monotonic with --no-hostname ("[  27.98] kernel: "), the
# Exynos and HiSilicon vendor kernels' task tags after the uptime. Its one false positive stays: a
# Broadcom router's bootloader (CFE) prints "et0: link down" before the kernel starts, the very words
# of the Linux et driver's own line (driver_survey_oot2.md), and a line alone cannot tell them apart.
HOLDOUT11 = CORPUS.with_name("real_world_holdout11.jsonl")
REACHED_HOLDOUT11_RECALL = 0.96
# `real_world_holdout12.jsonl`: 254 lines from 80 further sources (91 events), reports in other
# languages (Chinese, Japanese, German communities' router and firmware projects), collected under the
# twelfth holdout's rules; scored once, blind, at 34869cd: recall 0.912 (83/91), precision 1.000
# (83/83), fields 1.000 (415/415), as the session's starting recognisers. Taught afterwards by family:
# a relay's "HOST [uptime]" without the kernel's tag, a device named by its device-tree node, the
# ESW's details, NC-SI's "dev is down": it scores 1.000, which proves nothing.
HOLDOUT12 = CORPUS.with_name("real_world_holdout12.jsonl")
REACHED_HOLDOUT12_RECALL = 0.91
# `real_world_holdout13.jsonl`: 177 lines from 43 further sources (62 events), kernel logs kept as files
# (33 probes, a gateway's boot log, VM guests' dmesg), collected under the thirteenth holdout's rules;
# scored once, blind, at 637412f: recall 0.952 (59/62), precision 1.000, fields 1.000. Taught afterwards
# from its format string: Hyper-V netvsc's "Device MAC ... link state up"; a gateway's two unstamped
# boot lines labelled the kernel's stay missed (the same words from a bootloader would be false ones).
HOLDOUT13 = CORPUS.with_name("real_world_holdout13.jsonl")
REACHED_HOLDOUT13_RECALL = 0.95
# `real_world_holdout14.jsonl`: 326 lines from 74 further sources (94 events), kernel logs kept as files
# (64 of linux-hardware.org's probes: desktops, notebooks, servers, mini PCs, all-in-ones; boards' boot
# logs, hosts' dmesg, a kdump's vmcore-dmesg), collected under the fourteenth holdout's rules with a
# full session's search budget; scored once, blind, at the commit that adds it: recall 1.000 (94/94),
# precision 1.000 (94/94), fields 1.000 (470/470), as the session's starting recognisers (980609b).
HOLDOUT14 = CORPUS.with_name("real_world_holdout14.jsonl")
REACHED_HOLDOUT14_RECALL = 1.0
# `real_world_holdout15.jsonl`: 197 lines from 72 further sources (41 events), reports (bug trackers,
# appliance and OS projects' issues, forums, blogs in three languages) collected under the fifteenth
# holdout's rules (11 lines of 6 sources dropped before the score: two queries named a message's words,
# one page was an earlier file's); scored once, blind, at 409edcd: recall 0.829 (34/41), precision
# 1.000 (34/34), fields 0.976 (166/170). Taught afterwards by family: a platform device's address left
# out ("macb ... ethernet end0: "), older bna's "bna: IFNAME link up", NETDEV WATCHDOG after a netdev
# prefix with its name left out. A bare "e1000e Detected Hardware Unit Hang" stays missed (the words
# alone are a symptom list's, as the sixth round's false positive showed), and "[20s]" is no uptime.
HOLDOUT15 = CORPUS.with_name("real_world_holdout15.jsonl")
REACHED_HOLDOUT15_RECALL = 0.82
# `real_world_holdout16.jsonl`: 295 lines from 138 further sources (54 events), reports (GitHub issues of
# router, NAS and board projects in English and Chinese, 1997-2004 mailing-list archives, embedded
# vendors' forums, cellular modems' and VM guests' reports) collected under the sixteenth holdout's
# rules; scored once, blind, at d713332: recall 0.926 (50/54), precision 0.962 (50/52), fields 1.000
# (250/250). The two false ones are an issue's title and a reporter's sentence, each a whole NETDEV
# WATCHDOG record, labelled other by the rules (the same title's text stands as an event in another
# report's code block). Taught afterwards by family: a platform device's unit address masked
# ("imx-dwmac XXXXXX.ethernet eth0: "). Then, by the survey of the 2.0-2.4 kernels' drivers
# (corpus/driver_survey_2x.md, scan literals merged to make room): 1997-2000 tulip's "Tx hung, 15 vs.
# 9", the i82586's "CU wedged" in either case (eepro100's "CU Wedged") and a link's name typed in
# quotes; 54/54 since (not blind).
HOLDOUT16 = CORPUS.with_name("real_world_holdout16.jsonl")
REACHED_HOLDOUT16_RECALL = 0.92
# `real_world_holdout17.jsonl`: 265 lines from 84 further sources (69 events), reports (forums and lists
# in European languages, Japanese and Polish, old distributions' lists, network-OS, BMC and firmware
# projects' issues, board and mini-PC reports) collected under the seventeenth holdout's rules; scored
# once, blind, with the recognisers of d31cc74 (the session's start): recall 0.986 (68/69), precision
# 0.971 (68/70), fields 1.000 (340/340). The miss: a root shell's bare prompt before a stampless NC-SI
# line ("# ftgmac100: NCSI interface down"); the false ones: U-Boot's "PCIE-0: Link up" and ONIE's
# installer "eth0: link down.  Skipping configuration.". Taught afterwards by family (the prompt, a
# bus's link, a sentence after the state): it now scores 1.000, which proves nothing.
HOLDOUT17 = CORPUS.with_name("real_world_holdout17.jsonl")
REACHED_HOLDOUT17_RECALL = 0.98
# `real_world_holdout18.jsonl`: 221 lines from 84 further sources (37 events), reports (virtualization
# and cluster projects' lists and forums, embedded boards' vendors' forums, routers' firmware other than
# OpenWrt) collected under the eighteenth holdout's rules; scored once, blind, at 34cb8dd (the seventeenth
# round's teaching and the 2.0-2.4 drivers' survey in): recall 1.000 (37/37), precision 0.925 (37/40),
# fields 1.000 (185/185). The false ones: a PCIe NTB driver's debug print ("ntc_ntb_enabled: 787: link
# is up!"), a blog's summary line "Proxmox: enp0s31f6: Detected Hardware Unit Hang", and a sentence of a
# documentation page ("The e1000: Detected Tx Unit Hang failure mode of ..."). Taught afterwards by
# family: it now scores 1.000, which proves nothing.
HOLDOUT18 = CORPUS.with_name("real_world_holdout18.jsonl")
REACHED_HOLDOUT18_RECALL = 1.0
# `real_world_holdout19.jsonl`: 193 lines from 83 further sources (33 events), reports (laptops' docks and
# adapters, desktop distributions, NAS packages; real-time, time-sync, fieldbus, telecom and robotics
# projects' issues) collected under the nineteenth holdout's rules; scored once, blind, at 9ca7fee (the
# eighteenth round's teaching in): recall 1.000 (33/33), precision 0.971 (33/34), fields 1.000 (165/165).
# The false one: DPDK's f-stack printing "Port 0 Link Down", read as a vendor switch driver's "Port 4
# Link Down!". Taught afterwards: without its mark and with no device, DPDK's; it now scores 1.000.
HOLDOUT19 = CORPUS.with_name("real_world_holdout19.jsonl")
REACHED_HOLDOUT19_RECALL = 1.0
# `real_world_holdout20.jsonl`: 190 lines from 69 further sources (50 events), reports (storage, HPC and
# container-cluster projects' trackers and hosting providers' guests; home servers and appliances: camera
# firmware, satellite receivers, home routers, NAS and single-board servers) collected under the
# twentieth holdout's rules; scored once, blind, at 3e651ea (the survey of other programs' link words
# in): recall 0.980 (49/50), precision 1.000 (49/49), fields 0.992 (243/245). The miss: a relay's
# "kern.info:" tag after an ISO stamp; the wrong fields: NETDEV WATCHDOG's "CPU: 2 transmit" (colon
# lost) read with "CPU" as the link, and an uptime whose opening bracket was lost. Taught afterwards by
# family: it now scores 1.000, which proves nothing.
HOLDOUT20 = CORPUS.with_name("real_world_holdout20.jsonl")
REACHED_HOLDOUT20_RECALL = 0.98
PRECISION_FLOOR = {"holdout11": 0.98, "holdout16": 0.96, "holdout17": 0.97, "holdout18": 0.92, "holdout19": 0.97}

# A bonding member's carrier is a link's carrier: the corpus labels both the same way.
_CLASS = {
    EventKind.LINK_DOWN: "link_down",
    EventKind.BOND_MEMBER_DOWN: "link_down",
    EventKind.LINK_UP: "link_up",
    EventKind.BOND_MEMBER_UP: "link_up",
    EventKind.TX_TIMEOUT: "watchdog",
}


def halves(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(seen, unseen): the sources shuffled with SEED, the first half of them seen."""
    sources = sorted({r["source"] for r in records})
    random.Random(SEED).shuffle(sources)
    seen = set(sources[: len(sources) // 2])
    return [r for r in records if r["source"] in seen], [r for r in records if r["source"] not in seen]


@dataclass
class Figures:
    labelled: int = 0
    predicted: int = 0
    found: int = 0
    right: int = 0
    fields: int = 0
    fields_right: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0

    @property
    def field_accuracy(self) -> float:
        return self.fields_right / self.fields if self.fields else 1.0

    def line(self, name: str, records: int, sources: int) -> str:
        return (
            f"{name}: {records} lines from {sources} sources, {self.labelled} events; "
            f"recall {self.recall:.3f} ({self.found}/{self.labelled}), "
            f"precision {self.precision:.3f} ({self.right}/{self.predicted}), "
            f"fields {self.field_accuracy:.3f} ({self.fields_right}/{self.fields})"
        )


def classify(line: str) -> tuple[str, dict[str, Any]]:
    event = parse_line(line, years=YearHint(year=2024))
    if event is None:
        return "other", {}
    got = event.to_json()
    return _CLASS.get(event.event, "other"), {k: got[k] for k in FIELDS}


def score(records: list[dict[str, Any]]) -> tuple[Figures, list[str]]:
    """The figures, and one sentence per miss, false positive or wrong field."""
    figures, misses = Figures(), []
    for record in records:
        expected = record["event"]
        got, fields = classify(record["line"])
        labelled, predicted = expected != "other", got != "other"
        figures.labelled += labelled
        figures.predicted += predicted
        if predicted:
            figures.right += got == expected
            if got != expected:
                misses.append(f"{got} instead of {expected}: {record['line']!r}")
        if labelled and got == expected:
            figures.found += 1
            for key in FIELDS:
                figures.fields += 1
                if fields[key] == record[key]:
                    figures.fields_right += 1
                else:
                    misses.append(f"{key} {fields[key]!r} != {record[key]!r}: {record['line']!r}")
        elif labelled and not predicted:
            misses.append(f"missed {expected}: {record['line']!r}")
    return figures, misses


def _sources(records: list[dict[str, Any]]) -> int:
    return len({r["source"] for r in records})


def test_corpus_is_labelled_and_sourced() -> None:
    assert len(RECORDS) >= 300
    assert _sources(RECORDS) >= 95
    for record in RECORDS:
        assert record["source"].startswith(("http://", "https://")), record
        assert record["event"] in ("link_down", "link_up", "watchdog", "other"), record
        if record["event"] != "other":
            assert set(FIELDS) <= set(record), record


def test_split_keeps_each_source_in_one_half() -> None:
    seen, unseen = halves(RECORDS)
    assert {r["source"] for r in seen}.isdisjoint({r["source"] for r in unseen})
    assert len(seen) + len(unseen) == len(RECORDS)
    assert abs(_sources(seen) - _sources(unseen)) <= 1


@pytest.mark.parametrize("half", ["seen", "unseen"])
def test_real_world_figures(half: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's targets, on the half the recognisers were written from and on the other."""
    records = halves(RECORDS)[0 if half == "seen" else 1]
    figures, misses = score(records)
    with capsys.disabled():
        print("\n" + figures.line(half, len(records), _sources(records)))
        for miss in misses:
            print("  " + miss)
    assert figures.recall >= (TARGET_RECALL if half == "seen" else REACHED_UNSEEN_RECALL), misses
    assert figures.precision >= TARGET_PRECISION, misses
    assert figures.field_accuracy >= TARGET_FIELDS, misses


# Each holdout with the blind recall it reached (the comments above say when and how).
HOLDOUTS = [
    ("holdout", HOLDOUT, REACHED_HOLDOUT_RECALL),
    ("holdout2", HOLDOUT2, REACHED_HOLDOUT2_RECALL),
    ("holdout3", HOLDOUT3, REACHED_HOLDOUT3_RECALL),
    ("holdout4", HOLDOUT4, REACHED_HOLDOUT4_RECALL),
    ("holdout5", HOLDOUT5, REACHED_HOLDOUT5_RECALL),
    ("holdout6", HOLDOUT6, REACHED_HOLDOUT6_RECALL),
    ("holdout7", HOLDOUT7, REACHED_HOLDOUT7_RECALL),
    ("holdout8", HOLDOUT8, REACHED_HOLDOUT8_RECALL),
    ("holdout9", HOLDOUT9, REACHED_HOLDOUT9_RECALL),
    ("holdout10", HOLDOUT10, REACHED_HOLDOUT10_RECALL),
    ("holdout11", HOLDOUT11, REACHED_HOLDOUT11_RECALL),
    ("holdout12", HOLDOUT12, REACHED_HOLDOUT12_RECALL),
    ("holdout13", HOLDOUT13, REACHED_HOLDOUT13_RECALL),
    ("holdout14", HOLDOUT14, REACHED_HOLDOUT14_RECALL),
    ("holdout15", HOLDOUT15, REACHED_HOLDOUT15_RECALL),
    ("holdout16", HOLDOUT16, REACHED_HOLDOUT16_RECALL),
    ("holdout17", HOLDOUT17, REACHED_HOLDOUT17_RECALL),
    ("holdout18", HOLDOUT18, REACHED_HOLDOUT18_RECALL),
    ("holdout19", HOLDOUT19, REACHED_HOLDOUT19_RECALL),
    ("holdout20", HOLDOUT20, REACHED_HOLDOUT20_RECALL),
]


@pytest.mark.parametrize(("name", "path", "reached"), HOLDOUTS)
def test_holdout_figures(name: str, path: Path, reached: float, capsys: pytest.CaptureFixture[str]) -> None:
    """Reports that no recogniser was written from or corrected after: the blind figures."""
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert {r["source"] for r in records}.isdisjoint({r["source"] for r in RECORDS})
    others = [p for _, p, _ in HOLDOUTS if p != path]
    seen = {json.loads(x)["source"] for p in others for x in p.read_text(encoding="utf-8").splitlines()}
    assert {r["source"] for r in records}.isdisjoint(seen)
    for record in records:
        assert record["source"].startswith(("http://", "https://")), record
        assert record["event"] == "other" or set(FIELDS) <= set(record), record
    figures, misses = score(records)
    with capsys.disabled():
        print("\n" + figures.line(name, len(records), _sources(records)))
        for miss in misses:
            print("  " + miss)
    assert figures.recall >= reached, misses
    assert figures.precision >= PRECISION_FLOOR.get(name, TARGET_PRECISION), misses
    assert figures.field_accuracy >= TARGET_FIELDS, misses
