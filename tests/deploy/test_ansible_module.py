"""The Ansible module linkctl.network.links (deploy/ansible/collections/...), run for real:
`ansible-playbook` against localhost (connection: local) into throwaway namespaces, with the
linkctl of this checkout; and `ansible-test sanity` on the collection."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "deploy" / "ansible" / "collections"
COLLECTION = COLLECTIONS / "ansible_collections" / "linkctl" / "network"
BIN = Path(sys.executable).parent
LINKCTL = os.environ.get("LINKCTL_TEST_BIN") or str(BIN / "linkctl")
DEMO = ROOT / "demo"


def _tool(name: str) -> str:
    tool = BIN / name
    if not tool.exists():
        pytest.skip(f"ansible-core is not installed in the venv ({name}; it is in the dev extra)")
    return str(tool)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_NOCOLOR": "1"}
    env.update(
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_DEPRECATION_WARNINGS="false",
        PYTHONWARNINGS="ignore",
    )
    return env


class Run:
    def __init__(self, res: subprocess.CompletedProcess[str], result: dict[str, Any] | None) -> None:
        self.rc = res.returncode
        self.out = res.stdout + res.stderr
        recap = next(line for line in res.stdout.splitlines() if line.startswith("localhost") and "ok=" in line)
        self.recap = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap)}
        self.result = result or {}


def _play(tmp_path: Path, args: dict[str, Any], *flags: str) -> Run:
    """One task of the module, its registered result written to a file by a task that changes nothing."""
    result_file = tmp_path / "result.json"
    result_file.unlink(missing_ok=True)
    playbook = tmp_path / "play.yml"
    task = {"linkctl.network.links": {"executable": LINKCTL, **args}, "register": "r"}
    keep = {
        "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(result_file), "mode": "0600"},
        "check_mode": False,
        "changed_when": False,
        "diff": False,
    }
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task, keep]}]
    playbook.write_text(json.dumps(play))  # JSON is YAML
    cmd = [_tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *flags]
    cmd += ["-e", json.dumps({"ansible_python_interpreter": sys.executable})]
    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), check=False, timeout=300)
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return Run(res, result)


def _links(netns: str) -> str:
    """The namespace's links as linkctl shows them (kind data, MTU, MAC, master, flags; no counters)."""
    res = subprocess.run(
        [LINKCTL, "show", "--netns", netns, "--format", "yaml"], capture_output=True, text=True, check=True
    )
    return res.stdout


def _ip_link(netns: str, name: str) -> dict[str, Any] | None:
    res = subprocess.run(["ip", "-n", netns, "-j", "-d", "link", "show", name], capture_output=True, text=True)
    return json.loads(res.stdout)[0] if res.returncode == 0 else None


BRIDGE = textwrap.dedent("""\
    interfaces:
    - {name: br9, type: linux-bridge, mtu: 1400}
    - {name: v9, type: veth, veth: {peer: v9p}, mtu: 1400}
    """)


@pytest.mark.kernel
def test_check_diff_apply_then_nothing_to_do(netns: str, tmp_path: Path) -> None:
    # Check mode: changed, the plan's steps as the diff, nothing applied.
    checked = _play(tmp_path, {"declaration": BRIDGE, "netns": netns}, "--check", "--diff")
    assert checked.rc == 0, checked.out[-3000:]
    assert checked.recap["changed"] == 1 and checked.recap["failed"] == 0
    assert checked.result["changed"] is True and checked.result["linkctl_rc"] == 2
    assert [c["interface"] for c in checked.result["plan"]["changes"]][:2] == ["br9", "v9"]
    assert "linkctl plan (check mode, nothing applied):" in checked.out
    assert f"$ ip -n {netns} link add name br9 up type bridge" in checked.out
    assert _ip_link(netns, "br9") is None and _ip_link(netns, "v9") is None

    # Apply with --diff: the plan as the header, the links before and after as YAML.
    applied = _play(tmp_path, {"declaration": BRIDGE, "netns": netns, "wait": 30}, "--diff")
    assert applied.rc == 0, applied.out[-3000:]
    assert applied.recap["changed"] == 1
    assert applied.result["changed"] is True and applied.result["linkctl_rc"] == 0
    assert "applied and verified" in applied.result["stdout"]
    assert applied.result["cmd"][1:] == ["apply", "-", "--netns", netns, "--wait", "30"]
    assert "--- before: links before (linkctl show --format yaml)" in applied.out
    assert "+++ after: links after" in applied.out
    assert "+- name: br9" in applied.out and "+  type: linux-bridge" in applied.out
    assert "+  mtu: 1400" in applied.out and "+- name: v9p" in applied.out
    assert f"create br9 (netns {netns}): new" in applied.out
    br9, v9 = _ip_link(netns, "br9"), _ip_link(netns, "v9")
    assert br9 is not None and br9["mtu"] == 1400 and br9["linkinfo"]["info_kind"] == "bridge"
    assert v9 is not None and v9["mtu"] == 1400

    # Second run, and a second check: nothing differs, changed=0, no diff.
    before = _links(netns)
    again = _play(tmp_path, {"declaration": BRIDGE, "netns": netns}, "--diff")
    assert again.rc == 0, again.out[-3000:]
    assert again.recap["changed"] == 0 and again.result["changed"] is False
    assert again.result["linkctl_rc"] == 0 and again.result["cmd"][1] == "plan"
    assert "+++ after" not in again.out
    checked_again = _play(tmp_path, {"declaration": BRIDGE, "netns": netns}, "--check")
    assert checked_again.recap["changed"] == 0
    assert _links(netns) == before


@pytest.mark.kernel
def test_file_and_mapping_declarations(netns: str, tmp_path: Path) -> None:
    decl = tmp_path / "10-bridge.yml"
    decl.write_text("interfaces:\n- {name: br7, type: linux-bridge, mtu: 1280}\n")
    first = _play(tmp_path, {"declaration": str(decl), "netns": netns})
    assert first.rc == 0 and first.recap["changed"] == 1, first.out[-3000:]
    assert first.result["cmd"][1:3] == ["apply", str(decl)]
    br7 = _ip_link(netns, "br7")
    assert br7 is not None and br7["mtu"] == 1280
    # The same links as a mapping: nothing differs.
    mapping = {"interfaces": [{"name": "br7", "type": "linux-bridge", "mtu": 1280}]}
    same = _play(tmp_path, {"declaration": mapping, "netns": netns})
    assert same.rc == 0 and same.recap["changed"] == 0, same.out[-3000:]
    # A mapping that changes the MTU: applied.
    mapping["interfaces"][0]["mtu"] = 1300
    changed = _play(tmp_path, {"declaration": mapping, "netns": netns})
    assert changed.rc == 0 and changed.recap["changed"] == 1, changed.out[-3000:]
    br7 = _ip_link(netns, "br7")
    assert br7 is not None and br7["mtu"] == 1300


@pytest.mark.kernel
def test_failed_apply_is_rolled_back_and_the_task_fails(netns: str, tmp_path: Path) -> None:
    # The demo's topology, then its failing change: step 1 (veth1's txqueuelen) is fine, the kernel
    # refuses step 2 (mv0 given the MAC of its base, "Address already in use"), so step 1 is undone.
    setup = _play(tmp_path, {"declaration": (DEMO / "topology.yml").read_text(), "netns": netns})
    assert setup.rc == 0 and setup.recap["changed"] == 1, setup.out[-3000:]
    before = _links(netns)
    failed = _play(tmp_path, {"declaration": (DEMO / "failing.yml").read_text(), "netns": netns})
    assert failed.rc == 2 and failed.recap["failed"] == 1, failed.out[-3000:]
    assert failed.result == {}  # the task failed before `register` could be written out
    assert "was refused by the kernel: Address already in use" in failed.out
    assert "rolled back: 1 change(s) undone; checked" in failed.out
    assert '"rc": 1' in failed.out
    assert _links(netns) == before


@pytest.mark.kernel
def test_declarations_linkctl_refuses_fail_before_any_change(netns: str, tmp_path: Path) -> None:
    base = {"interfaces": [{"name": "b0", "type": "veth", "veth": {"peer": "b0p"}}]}
    assert _play(tmp_path, {"declaration": base, "netns": netns}).rc == 0
    b0 = _ip_link(netns, "b0")
    assert b0 is not None
    before = _links(netns)
    cases = [
        # a mac-vlan with the MAC of its base: validation refuses it before any change
        (
            {
                "interfaces": [
                    {
                        "name": "mv1",
                        "type": "mac-vlan",
                        "mac-vlan": {"base-iface": "b0", "mode": "bridge"},
                        "mac-address": b0["address"],
                    }
                ]
            },
            "a MAC of its own: its base-iface b0 has it",
        ),
        # a VXLAN too big for its base (b0 has MTU 1500; VXLAN over IPv4 needs 50 bytes)
        (
            {
                "interfaces": [
                    {
                        "name": "vx1",
                        "type": "vxlan",
                        "mtu": 1500,
                        "vxlan": {"id": 42, "base-iface": "b0", "remote": "192.0.2.10"},
                    }
                ]
            },
            "at most 1450",
        ),
        # the `ip link` word for a type
        ("interfaces:\n- {name: x0, type: bridge}\n", "this format says `linux-bridge`"),
        # a relative path is not taken for a file on the managed host
        ("files/10-bridge.yml", "not an absolute path on the managed host"),
        # a missing file
        (str(tmp_path / "missing.yml"), "No such file or directory"),
    ]
    for declaration, message in cases:
        for flags in ((), ("--check",)):
            run = _play(tmp_path, {"declaration": declaration, "netns": netns}, *flags)
            assert run.rc == 2 and run.recap["failed"] == 1, run.out[-3000:]
            assert message in run.out, (declaration, run.out[-3000:])
    # a namespace name boot-apply could not keep a directory for: refused before linkctl runs
    run = _play(tmp_path, {"declaration": base, "netns": "../x", "persist": True, "persist_name": "x.yml"})
    assert run.rc == 2 and "a namespace name of letters" in run.out, run.out[-3000:]
    assert _links(netns) == before


@pytest.mark.kernel
def test_persist_installs_the_declaration_and_the_unit(netns: str, tmp_path: Path) -> None:
    # The namespace named in the declaration itself (boot-apply honours it), not with `netns:`.
    decl = f"interfaces:\n- {{name: br5, type: linux-bridge, mtu: 1300, netns: {netns}}}\n"
    root = tmp_path / "root"
    args = {"declaration": decl, "persist": True, "persist_name": "20-br5", "persist_root": str(root)}
    checked = _play(tmp_path, args, "--check")
    assert checked.rc == 0 and checked.recap["changed"] == 1, checked.out[-3000:]
    assert not (root / "etc").exists() and _ip_link(netns, "br5") is None

    first = _play(tmp_path, args)
    assert first.rc == 0 and first.recap["changed"] == 1, first.out[-3000:]
    kept = root / "etc" / "linkctl" / "20-br5.yml"
    assert first.result["persisted"]["path"] == str(kept) and first.result["persisted"]["changed"] is True
    assert kept.read_text() == decl
    unit = root / "etc" / "systemd" / "system" / "linkctl-apply.service"
    assert f"ExecStart={LINKCTL} boot-apply --dir /etc/linkctl" in unit.read_text()
    assert (root / "etc" / "systemd" / "system" / "multi-user.target.wants" / "linkctl-apply.service").is_symlink()
    br5 = _ip_link(netns, "br5")
    assert br5 is not None and br5["mtu"] == 1300

    again = _play(tmp_path, args)
    assert again.rc == 0 and again.recap["changed"] == 0, again.out[-3000:]
    assert again.result["persisted"]["changed"] is False
    assert _play(tmp_path, args, "--check").recap["changed"] == 0


@pytest.mark.kernel
def test_persist_with_netns_keeps_the_file_for_that_namespace(netns: str, tmp_path: Path) -> None:
    # `netns:` with `persist`: `linkctl persist --netns` keeps it in /etc/linkctl/netns/NS/, which
    # boot-apply applies into NS.
    decl = "interfaces:\n- {name: br6, type: linux-bridge, mtu: 1320}\n"
    root = tmp_path / "root"
    args = {"declaration": decl, "netns": netns, "persist": True, "persist_name": "30-br6", "persist_root": str(root)}
    checked = _play(tmp_path, args, "--check")
    assert checked.rc == 0 and checked.recap["changed"] == 1, checked.out[-3000:]
    assert not (root / "etc").exists() and _ip_link(netns, "br6") is None

    first = _play(tmp_path, args)
    assert first.rc == 0 and first.recap["changed"] == 1, first.out[-3000:]
    kept = root / "etc" / "linkctl" / "netns" / netns / "30-br6.yml"
    assert first.result["persisted"]["path"] == str(kept) and first.result["persisted"]["changed"] is True
    assert kept.read_text() == decl
    assert not (root / "etc" / "linkctl" / "30-br6.yml").exists()
    assert f"wrote {kept}" in first.result["persisted"]["unit"]
    assert first.result["cmd"][1] == "apply"  # cmd stays the apply's, not persist's
    unit = root / "etc" / "systemd" / "system" / "linkctl-apply.service"
    assert f"ExecStart={LINKCTL} boot-apply --dir /etc/linkctl" in unit.read_text()
    br6 = _ip_link(netns, "br6")
    assert br6 is not None and br6["mtu"] == 1320

    again = _play(tmp_path, args)
    assert again.rc == 0 and again.recap["changed"] == 0, again.out[-3000:]
    assert again.result["persisted"]["changed"] is False
    assert _play(tmp_path, args, "--check").recap["changed"] == 0


# ansible-test's sanity tests that cannot run here: none needs docker when run with --python;
# pslint needs pwsh and shellcheck needs shellcheck, but the collection has neither PowerShell
# nor shell files, so both pass with nothing to check.
def _pip_bootstrap() -> None:
    """ansible-test bootstraps pip into each sanity venv with a script it downloads from
    ci-files.testing.ansible.com and caches in ~/.ansible/test/cache. Where that host cannot be
    reached (this VM reaches only package indexes), a stand-in is cached once: it runs a copy of
    the pip installed here, which installs the pip version asked for into the new venv from the
    package index, as get-pip does."""
    from ansible_test._internal.host_configs import NativePythonConfig  # type: ignore[import-not-found]
    from ansible_test._internal.python_requirements import get_venv_packages  # type: ignore[import-not-found]

    version = get_venv_packages(NativePythonConfig(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))["pip"]
    cache = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    if cache.exists():
        return
    try:
        import urllib.request

        urllib.request.urlopen("https://ci-files.testing.ansible.com/", timeout=10).close()
        return  # reachable: ansible-test downloads the real script itself
    except OSError:
        pass
    import pip

    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        textwrap.dedent(f"""\
            # Stand-in for get-pip {version} (ci-files.testing.ansible.com unreachable); written by
            # tests/deploy/test_ansible_module.py. Runs a copy of an installed pip.
            import os, runpy, shutil, sys, tempfile
            tmp = tempfile.mkdtemp(prefix="get-pip-")
            shutil.copytree({str(Path(pip.__file__).parent)!r}, os.path.join(tmp, "pip"))
            sys.path.insert(0, tmp)
            sys.argv = [sys.argv[0], "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
            try:
                runpy.run_module("pip", run_name="__main__", alter_sys=True)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            """)
    )


def test_ansible_test_sanity(tmp_path: Path) -> None:
    tool = _tool("ansible-test")
    if shutil.which("git") is None:
        pytest.skip("ansible-test lists a collection's files with git")
    _pip_bootstrap()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONWARNINGS": "ignore"}
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    res = subprocess.run(
        [tool, "sanity", "--python", python, "--color", "no"],
        cwd=COLLECTION,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1200,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    ran = re.findall(r'Running sanity test "([\w-]+)"', out)
    for name in ("validate-modules", "ansible-doc", "pylint", "pep8", "yamllint", "import", "compile"):
        assert name in ran, (name, ran)
    assert "ERROR" not in out, out[-6000:]
