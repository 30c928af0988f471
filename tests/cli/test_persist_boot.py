"""`persist FILE --netns NS` keeps the file for its namespace; `boot-apply` applies it there, making
the namespace as `apply --netns` does; `watch --install-unit` writes a unit naming this linkctl."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkctl.diagnose import persist
from tests.conftest import LINKCTL

VETH = "interfaces:\n- name: pb0\n  type: veth\n  mtu: 1400\n  veth: {peer: pb1}\n"


def _linkctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINKCTL, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_name() -> Iterator[str]:
    """A namespace name nobody has made yet; removed after the test if something made it."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    name = f"lkp-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_persist_keeps_the_file_for_its_namespace(tmp_path: Path) -> None:
    decl = tmp_path / "20-veth.yml"
    decl.write_text(VETH)
    root = tmp_path / "root"
    out = _linkctl("persist", str(decl), "--netns", "blue", "--root", str(root), "--linkctl", "/opt/l/bin/linkctl")
    assert out.returncode == 0, out.stderr
    kept = root / "etc/linkctl/netns/blue/20-veth.yml"
    assert kept.read_text() == VETH
    assert "into network namespace 'blue'" in out.stdout
    host = _linkctl("persist", str(decl), "--root", str(root), "--linkctl", "/opt/l/bin/linkctl")
    assert (root / "etc/linkctl/20-veth.yml").read_text() == VETH
    assert f"unchanged {root}/etc/systemd/system/linkctl-apply.service" in host.stdout
    assert persist.boot_files(root / "etc/linkctl") == [(root / "etc/linkctl/20-veth.yml", None), (kept, "blue")]


def test_persist_refuses_a_broken_file_or_a_bad_namespace_and_keeps_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yml"
    broken.write_text("interfaces:\n- name: x\n  type: nosuchkind\n")
    root = tmp_path / "root"
    out = _linkctl("persist", str(broken), "--root", str(root))
    assert out.returncode == 1 and "nosuchkind" in out.stderr
    assert not root.exists()
    good = tmp_path / "ok.yml"
    good.write_text(VETH)
    out = _linkctl("persist", str(good), "--netns", "../etc", "--root", str(root))
    assert out.returncode == 1 and "namespace name" in out.stderr
    assert not root.exists()


@pytest.mark.kernel
def test_boot_apply_applies_each_file_into_its_namespace(tmp_path: Path, fresh_name: str) -> None:
    decl = tmp_path / "20-veth.yml"
    decl.write_text(VETH)
    root = tmp_path / "root"
    assert _linkctl("persist", str(decl), "-n", fresh_name, "--root", str(root), "--no-enable").returncode == 0
    conf = root / "etc/linkctl"
    assert not Path(f"/run/netns/{fresh_name}").exists()
    out = _linkctl("boot-apply", "--dir", str(conf))
    assert out.returncode == 0, out.stderr
    links = json.loads(_linkctl("show", "pb0", "pb1", "-n", fresh_name, "--format", "json").stdout)
    assert sorted((lk["name"], lk["mtu"]) for lk in links) == [("pb0", 1400), ("pb1", 1400)]
    host = subprocess.run(["ip", "link", "show", "pb0"], capture_output=True)
    assert host.returncode != 0  # not in the host's namespace
    again = _linkctl("boot-apply", "--dir", str(conf))
    assert again.returncode == 0 and f"{conf}/netns/{fresh_name}/20-veth.yml: nothing to change" in again.stdout


def test_boot_apply_says_which_kept_files_it_cannot_apply(tmp_path: Path) -> None:
    """A directory under netns/ made by hand with a name no namespace can have (`persist` refuses
    it), or a file beside the namespaces' directories: said, exit 1, not left out without a word."""
    conf = tmp_path / "conf"
    for bad in ("blue green", ".hidden", "-x"):
        (conf / "netns" / bad).mkdir(parents=True)
        (conf / "netns" / bad / "10.yml").write_text(VETH)
    (conf / "netns" / "20.yml").write_text(VETH)
    out = _linkctl("boot-apply", "--dir", str(conf))
    assert out.returncode == 1, out.stdout
    assert "no *.yml files" not in out.stdout
    assert f"{conf}/netns/blue green: not applied: 'blue green' is no namespace name" in out.stderr
    assert f"{conf}/netns/.hidden: not applied" in out.stderr
    assert f"{conf}/netns/-x: not applied" in out.stderr
    assert f"{conf}/netns/20.yml: not applied: a namespace's declarations go in {conf}/netns/NS/" in out.stderr


def test_persist_says_which_file_a_namespace_made_empty_at_boot_refuses(tmp_path: Path) -> None:
    """A macvlan on a NIC the file does not declare validates against today's kernel, but boot-apply
    makes the namespace empty and refuses it: "applied at every boot" alone was a false promise."""
    macvlan = tmp_path / "10-mv.yml"
    macvlan.write_text("interfaces:\n- name: pm0\n  type: mac-vlan\n  mac-vlan: {base-iface: pbase0, mode: bridge}\n")
    base = "interfaces:\n- name: pbase0\n  type: veth\n  veth: {peer: pbase1}\n"
    (tmp_path / "05-base.yml").write_text(base)
    (tmp_path / "20-base.yml").write_text(base)
    said = "interface pm0: mac-vlan.base-iface: 'pbase0'"
    for i, (files, refused) in enumerate(
        [(["10-mv.yml"], True), (["10-mv.yml", "20-base.yml"], True), (["10-mv.yml", "05-base.yml"], False)]
    ):
        root = tmp_path / f"root{i}"
        out = _linkctl("persist", *(str(tmp_path / f) for f in files), "-n", "blue", "--root", str(root))
        assert out.returncode == 0, out.stderr
        assert (said in out.stdout) is refused, (files, out.stdout)  # a base applied after it comes too late
        if refused:
            assert "empty: refused at boot unless something puts what it needs there first" in out.stdout
    big = tmp_path / "30-big.yml"  # validated alone: a veth made with it (as at boot) is refused
    big.write_text(VETH.replace("1400", "65536"))
    out = _linkctl("persist", str(big), "-n", "blue", "--root", str(tmp_path / "root4"))
    assert "interface pb0: mtu: 65536: 68 to 65535 for a new veth link (in namespace 'blue'" in out.stdout
    root = tmp_path / "root3"  # kept earlier, applied before it at boot
    assert _linkctl("persist", str(tmp_path / "05-base.yml"), "-n", "blue", "--root", str(root)).returncode == 0
    assert said not in _linkctl("persist", str(macvlan), "-n", "blue", "--root", str(root)).stdout


def test_persist_refuses_two_files_it_would_keep_under_one_name(tmp_path: Path) -> None:
    """The second replaced the first, and both were said "wrote"."""
    for where, text in (("one", VETH), ("two", VETH.replace("1400", "1500"))):
        (tmp_path / where).mkdir()
        (tmp_path / where / "20-veth.yml").write_text(text)
    (tmp_path / "two" / "20-veth").write_text(VETH)
    root = tmp_path / "root"
    for second in ("two/20-veth.yml", "two/20-veth"):
        out = _linkctl("persist", str(tmp_path / "one/20-veth.yml"), str(tmp_path / second), "--root", str(root))
        assert out.returncode == 1
        assert f"{tmp_path}/one/20-veth.yml and {tmp_path}/{second} would both be kept as " in out.stderr
        assert f"{root}/etc/linkctl/20-veth.yml: rename one of them; nothing was kept" in out.stderr
        assert not root.exists()


@pytest.fixture
def full_root(tmp_path: Path) -> Iterator[Path]:
    """A root on a 16 KiB tmpfs filled up: a full /etc."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    root = tmp_path / "full"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(root)], check=True)
    try:
        with (root / "filler").open("wb") as filler, contextlib.suppress(OSError):
            filler.write(b"x" * (1 << 16))
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


def test_persist_onto_a_full_etc_names_the_file_it_could_not_write(tmp_path: Path, full_root: Path) -> None:
    decl = tmp_path / "20-veth.yml"
    decl.write_text(VETH)
    out = _linkctl("persist", str(decl), "-n", "blue", "--root", str(full_root), "--linkctl", "/opt/l/bin/linkctl")
    unit = full_root / "etc/systemd/system/linkctl-apply.service"
    assert out.returncode == 1
    assert f"cannot write {unit}: No space left on device (free space there); nothing was written" in out.stderr
    assert "standard output" not in out.stderr  # it was not stdout that failed
    assert not list(unit.parent.iterdir())  # no empty temporary file left beside the unit


def test_persist_onto_an_etc_it_cannot_write_says_so(tmp_path: Path) -> None:
    decl = tmp_path / "20-veth.yml"
    decl.write_text(VETH)
    root = tmp_path / "root"
    (root / "etc/linkctl").mkdir(parents=True)
    (root / "etc/linkctl/netns").write_text("")  # a file where the namespaces' directories go
    out = _linkctl("persist", str(decl), "-n", "blue", "--root", str(root), "--linkctl", "/opt/l/bin/linkctl")
    assert out.returncode == 1
    assert "internal error" not in out.stderr
    unit = root / "etc/systemd/system/linkctl-apply.service"
    assert (
        f"cannot write {root}/etc/linkctl/netns/blue/20-veth.yml: Not a directory (make it writable); written before it: {unit}"
        in (out.stderr)
    )


@pytest.mark.kernel
def test_boot_apply_goes_on_when_its_output_fails(tmp_path: Path, fresh_name: str) -> None:
    """stdout on a full disk: the first file's "2 link change(s)" failed to print, and the command
    ended there (exit 1): the namespaces after it were not applied at boot."""
    second = f"{fresh_name}-2"
    conf = tmp_path / "conf"
    for ns in (fresh_name, second):
        (conf / "netns" / ns).mkdir(parents=True)
        (conf / "netns" / ns / "20-veth.yml").write_text(VETH)
    try:
        with open("/dev/full", "w") as full:
            out = subprocess.run(
                [*LINKCTL, "boot-apply", "--dir", str(conf)],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=120,
            )
        assert out.returncode == 0, out.stderr
        assert "cannot write to stdout (No space left on device)" in out.stderr
        for ns in (fresh_name, second):
            shown = json.loads(_linkctl("show", "pb0", "-n", ns, "--format", "json").stdout)
            assert [(lk["name"], lk["mtu"]) for lk in shown] == [("pb0", 1400)]
    finally:
        subprocess.run(["ip", "netns", "del", second], capture_output=True)


def test_watch_install_unit_names_this_linkctl(tmp_path: Path) -> None:
    out = _linkctl("watch", "--install-unit", "--root", str(tmp_path))
    assert out.returncode == 0, out.stderr
    unit = (tmp_path / "etc/systemd/system/linkctl-watch.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    program = exec_start.split("=", 1)[1].split()[0]
    assert program != persist.DEFAULT_EXEC and Path(program).is_file() and Path(program).name == "linkctl"
    assert exec_start.endswith(" watch --config /etc/linkctl/watch.yaml")
    assert (tmp_path / "etc/linkctl/watch.yaml").read_text().startswith("# /etc/linkctl/watch.yaml")
    assert os.readlink(tmp_path / "etc/systemd/system/multi-user.target.wants/linkctl-watch.service") == (
        "/etc/systemd/system/linkctl-watch.service"
    )
    (tmp_path / "etc/linkctl/watch.yaml").write_text("store: sqlite:///x.db\n")
    again = _linkctl("watch", "--install-unit", "--root", str(tmp_path))
    assert f"unchanged {tmp_path}/etc/linkctl/watch.yaml" in again.stdout  # the operator's settings are kept
    assert (tmp_path / "etc/linkctl/watch.yaml").read_text() == "store: sqlite:///x.db\n"


def test_persist_says_what_plan_refuses_on_this_host_now(tmp_path: Path, fresh_name: str) -> None:
    """The seed's EEE fix kept for a veth, whose driver has no EEE: `plan` refuses it, and `persist` said
    only "applied at every boot"; boot-apply would have refused it at every boot."""
    subprocess.run(["ip", "netns", "add", fresh_name], check=True)
    subprocess.run(["ip", "-n", fresh_name, "link", "add", "pe0", "type", "veth", "peer", "name", "pe1"], check=True)
    fix = tmp_path / "eee.yml"
    fix.write_text("interfaces:\n- name: pe0\n  type: veth\n  veth: {peer: pe1}\n  ethtool: {eee: {enabled: false}}\n")
    out = _linkctl("persist", str(fix), "-n", fresh_name, "--root", str(tmp_path / "root"))
    assert out.returncode == 0, out.stderr
    assert (
        f"note: {fix}: interface pe0: ethtool.eee.enabled: false: the driver has no EEE support: remove the key: "
        "`linkctl plan` refuses it on this host now, and boot-apply will too" in out.stdout
    )
    assert "applied at every boot" not in out.stdout
    assert f"kept for every boot into network namespace '{fresh_name}'" in out.stdout
    fine = tmp_path / "fine.yml"  # what plan takes is said as before
    fine.write_text("interfaces:\n- name: pe0\n  type: veth\n  veth: {peer: pe1}\n  mtu: 1400\n")
    out = _linkctl("persist", str(fine), "-n", fresh_name, "--root", str(tmp_path / "root2"))
    assert "refuses" not in out.stdout and f"applied at every boot into network namespace '{fresh_name}'" in out.stdout
