"""Receipts without the kernel: what names one, what is stored, which commands may use one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linkctl import fastpath
from linkctl.cli.entry import plain_args
from linkctl.engine.apply import Context
from linkctl.engine.runtime import DIR_ENV
from linkctl.fastpath import receipt
from linkctl.model.load import parse_text


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(DIR_ENV, str(tmp_path))
    monkeypatch.delenv(receipt.DISABLE_ENV, raising=False)
    return tmp_path / "receipts"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["f.yml"], ("f.yml", None)),
        (["f.yml", "--netns", "ns1"], ("f.yml", "ns1")),
        (["-n", "ns1", "f.yml"], ("f.yml", "ns1")),
        (["--netns=ns1", "f.yml"], ("f.yml", "ns1")),
        (["f.yml", "--debug"], None),
        (["f.yml", "--rehearse"], None),
        (["--help"], None),
        (["-"], None),
        ([], None),
        (["a.yml", "b.yml"], None),
        (["f.yml", "--netns"], None),
        (["f.yml", "--netns="], None),
    ],
)
def test_only_the_plain_apply_form_is_answered_early(args: list[str], expected: object) -> None:
    assert plain_args(args) == expected


def test_a_receipt_is_named_by_the_bytes_the_namespace_and_the_code() -> None:
    base = receipt.key(b"interfaces: []\n", "ns1")
    assert base == receipt.key(b"interfaces: []\n", "ns1")
    assert base != receipt.key(b"interfaces: []\n", "ns2")
    assert base != receipt.key(b"interfaces: []\n", None)
    assert base != receipt.key(b"interfaces: [] \n", "ns1")


def test_recorded_receipt_is_loaded_back(runtime: Path) -> None:
    kept = receipt.Receipt([None, "ns 1", "ns2"], "ab" * 20, 7)
    receipt.record(b"x", "ns1", kept)
    back = receipt.load(b"x", "ns1")
    assert back is not None
    assert (back.namespaces, back.digest, back.interfaces) == (kept.namespaces, kept.digest, 7)
    assert receipt.load(b"y", "ns1") is None
    assert oct(runtime.stat().st_mode & 0o777) == "0o700"


def test_damaged_or_foreign_receipts_are_ignored(runtime: Path) -> None:
    receipt.record(b"x", None, receipt.Receipt([None], "00", 1))
    path = runtime / receipt.key(b"x", None)
    path.write_text("linkctl-receipt 1\ninterfaces many\ndigest 00\n")
    assert receipt.load(b"x", None) is None
    path.write_text("something else\n")
    assert receipt.load(b"x", None) is None
    receipt.record(b"x", None, receipt.Receipt([None], "00", 1))
    os.chown(path, 65534, 65534)  # nobody's file in our directory is not a receipt of ours
    assert receipt.load(b"x", None) is None


def test_receipts_off_writes_nothing(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(receipt.DISABLE_ENV, "off")
    receipt.record(b"x", None, receipt.Receipt([None], "00", 1))
    assert not runtime.exists()
    assert fastpath.answer("apply", "whatever.yml", None) is None


def test_old_receipts_are_pruned(runtime: Path) -> None:
    for i in range(receipt.KEEP + 5):
        receipt.record(b"%d" % i, None, receipt.Receipt([None], "00", 1))
    assert len(list(runtime.iterdir())) == receipt.KEEP


def test_declarations_with_settings_outside_the_link_dump_get_no_receipt(runtime: Path) -> None:
    links = parse_text("interfaces: [{name: eth0, type: ethernet, mtu: 1500}]", "d.yml")
    ethtool = parse_text(
        "interfaces: [{name: eth0, type: ethernet, ethtool: {feature: {tx-checksum-ip-generic: false}}}]", "d.yml"
    )
    assert receipt.may_keep(Context(links, "d.yml", data=b"x"))
    assert not receipt.may_keep(Context(ethtool, "d.yml", data=b"x"))
    assert not receipt.may_keep(Context(links, "-"))  # stdin: no bytes to name a receipt by


def test_a_file_with_port_vlans_has_its_receipt_hold_them(runtime: Path) -> None:
    """`bridge vlan` changes no link message: a receipt of a file declaring port VLANs names the
    namespaces whose VLANs its digest holds, and the fast path fingerprints them again."""
    port = "{name: vp0, vlan: {mode: access, tag: 10}}"
    vlan_file = parse_text(f"interfaces: [{{name: br0, type: linux-bridge, bridge: {{port: [{port}]}}}}]", "d.yml")
    plain = parse_text("interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: vp0}]}}]", "d.yml")
    empty = parse_text("interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: vp0, vlan: {}}]}}]", "d")
    assert Context(vlan_file, "d.yml", default_netns="ns1").vlan_read() == ["ns1"]
    assert Context(plain, "d.yml").vlan_read() is None and Context(empty, "d.yml").vlan_read() is None
    receipt.record(b"x", None, receipt.Receipt([None, "ns1"], "cd" * 20, 2, None, [None, "ns1"]))
    back = receipt.load(b"x", None)
    assert back is not None and back.vlans == [None, "ns1"] and back.layer3 == []
    old = receipt.Receipt.parse(f"{receipt.FORMAT}\ninterfaces 1\ndigest 00\nnetns -\n")
    assert old is not None and old.vlans == []
