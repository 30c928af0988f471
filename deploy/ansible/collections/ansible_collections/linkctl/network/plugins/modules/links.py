#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: linkctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# (The module drives linkctl, Apache-2.0, only through its command line.)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: links
short_description: Make Linux network links as an nmstate-style declaration says, with linkctl
version_added: "0.1.0"
description:
  - Runs the C(linkctl) program on the managed host (as argument lists, never through a shell)
    to make the links of a declaration in nmstate's YAML exist as declared.
  - The module first runs C(linkctl plan), which reads the kernel's state and changes nothing.
    When nothing differs (exit code 0) the task reports C(changed=false) and sends nothing to the kernel.
    When changes are pending (exit code 2) it runs C(linkctl apply), which validates the whole
    declaration before the first change, verifies the result by reading the links again, and on any
    refusal puts every link back as it was and checks that it did.
  - In check mode only C(linkctl plan) runs; the task is changed when the plan has changes.
  - With C(--diff), the links of every namespace the plan touches are shown as YAML
    (C(linkctl show --format yaml)) before and after the apply, with the plan's steps
    (each with the C(ip) commands it stands for) as the header. In check mode, where nothing is
    applied, the diff is the plan's steps.
  - A failed apply fails the task with linkctl's own message (which step the kernel refused, and
    whether the rollback was checked). A declaration linkctl refuses fails the task before any change.
author:
  - linkctl maintainers (@linkctl)
requirements:
  - linkctl on the managed host (C(pip install linkctl) into a virtual environment, for example C(/opt/linkctl))
  - root, or CAP_NET_ADMIN (and CAP_SYS_ADMIN for I(netns))
options:
  declaration:
    description:
      - The links to make, in nmstate's YAML as linkctl reads it (a mapping with an C(interfaces) list).
      - A mapping (dictionary) is passed to linkctl as JSON, which is YAML.
      - A string that contains a line break, or starts with C({), C(---) or C(interfaces:), is inline YAML,
        passed to linkctl on its standard input.
      - Any other string is the absolute path of a declaration file on the managed host
        (copy it there first, for example with M(ansible.builtin.copy)).
    type: raw
    required: true
  netns:
    description:
      - The C(ip netns) namespace the links live in (C(linkctl --netns)); links that name their own
        C(netns) in the declaration keep it.
      - When omitted, the managed host's own namespace.
    type: str
  state:
    description:
      - C(present) makes the links as declared.
      - There is no C(absent). To delete links, declare them with C(state) C(absent) inside the
        declaration, which is nmstate's own way and says exactly which links go (a physical NIC cannot be
        deleted, a veth's peer goes with it, ports are released).
    type: str
    choices: [present]
    default: present
  wait:
    description:
      - Seconds the apply waits for another linkctl's change to end (C(linkctl apply --wait)), for example the
        boot-time apply or a C(linkctl try) holding its change.
      - C(0) refuses at once when another change is running (linkctl's default). C(linkctl plan) never waits.
    type: float
    default: 0
  persist:
    description:
      - After a successful apply (or when nothing differed), keep the declaration for boot with
        C(linkctl persist), which checks it, writes it as I(persist_name) under I(persist_root), and installs
        and enables C(linkctl-apply.service); at every boot C(linkctl boot-apply) applies the kept files in name order.
      - Without I(netns) the file goes to C(/etc/linkctl/) and is applied in the host's own namespace.
        With I(netns) it goes to C(/etc/linkctl/netns/NETNS/) (C(linkctl persist --netns)) and is applied
        into that namespace, which C(boot-apply) makes when it is missing.
      - In check mode the file is compared, not written, and the unit is only looked for.
    type: bool
    default: false
  persist_name:
    description:
      - The file name under C(/etc/linkctl/) (or C(/etc/linkctl/netns/NETNS/) with I(netns)), for example
        C(10-bridge.yml) (boot applies the files in name order).
      - Defaults to the base name of the declaration file. Required with I(persist) when the declaration is
        inline or a mapping.
      - A name without C(.yml) or C(.yaml) gets C(.yml) added.
    type: str
  persist_root:
    description:
      - Install under this root instead of C(/) (C(linkctl persist --root)), for images and tests.
    type: path
    default: /
  executable:
    description:
      - Path of the linkctl program on the managed host.
      - When omitted, C(linkctl) is looked for on C(PATH), then in C(/opt/linkctl/bin) and C(/usr/local/bin).
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Runs C(linkctl plan) only; changed when the plan has changes (exit code 2).
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - Changes run one at a time on a host (linkctl takes an exclusive lock); use I(wait) when a boot-time apply
    or a C(linkctl try) may be holding it.
  - On a timeout Ansible sends SIGTERM; linkctl then rolls the change back and checks it.
seealso:
  - name: linkctl README
    description: The declaration format, the promises of C(apply) and its exit codes.
    link: https://example.invalid/linkctl#readme
"""

EXAMPLES = r"""
- name: A bridge with an MTU of 9000 in the host's namespace, from a file on the host
  linkctl.network.links:
    declaration: /etc/linkctl-staged/10-bridge.yml
    wait: 120

- name: Inline YAML, in a namespace
  linkctl.network.links:
    netns: blue
    declaration: |
      interfaces:
      - {name: br0, type: linux-bridge, mtu: 9000}
      - {name: veth0, type: veth, veth: {peer: veth0-p}}

- name: A mapping, kept for boot as /etc/linkctl/20-vxlan.yml
  linkctl.network.links:
    declaration:
      interfaces:
        - name: vx42
          type: vxlan
          mtu: 1450
          vxlan: {id: 42, base-iface: eth0, remote: 192.0.2.10}
    persist: true
    persist_name: 20-vxlan.yml
    executable: /opt/linkctl/bin/linkctl

- name: Links of a namespace, kept for boot as /etc/linkctl/netns/blue/10-bridge.yml
  linkctl.network.links:
    netns: blue
    declaration: /etc/linkctl-staged/10-bridge.yml
    persist: true

- name: Remove a link (declared absent)
  linkctl.network.links:
    declaration:
      interfaces:
        - {name: vx42, state: absent}
"""

RETURN = r"""
plan:
  description:
    - What C(linkctl plan --format json) found to do before the apply (in check mode, what it would do).
    - C(changes) lists the steps, each with C(action), C(interface), C(netns), C(description) and C(commands)
      (every C(ip) command the step stands for, as argument lists).
  returned: success, and when the apply failed
  type: dict
  sample:
    changes:
      - action: SetLink
        interface: br0
        netns: blue
        description: "set br0 (netns blue): mtu 1500 -> 9000"
        commands: [["ip", "-n", "blue", "link", "set", "dev", "br0", "mtu", "9000"]]
    other_changes: []
    notes: []
    unchanged: [veth0]
cmd:
  description: The last linkctl command run, as an argument list.
  returned: always
  type: list
  elements: str
  sample: ["/opt/linkctl/bin/linkctl", "apply", "-", "--netns", "blue", "--wait", "120"]
linkctl_rc:
  description:
    - The exit code of the last linkctl command (plan 0 nothing differs, 2 changes pending; apply 0 applied and verified).
    - Not named C(rc), since Ansible takes any C(rc) other than 0 for a failure.
  returned: success
  type: int
  sample: 0
rc:
  description: The exit code of the linkctl command that failed (apply 1 refused or rolled back, 4 rollback unchecked).
  returned: failure
  type: int
  sample: 1
stdout:
  description: What the last linkctl command printed (for an apply, its steps and "applied and verified").
  returned: always
  type: str
stderr:
  description: linkctl's messages (a refusal, the kernel's answer, the rollback's outcome).
  returned: always
  type: str
persisted:
  description: What I(persist) did.
  returned: when I(persist=true)
  type: dict
  contains:
    path:
      description: The declaration kept for boot (under C(/etc/linkctl/netns/NETNS/) with I(netns)).
      type: str
      sample: /etc/linkctl/10-bridge.yml
    changed:
      description: Whether the file or the unit was (or in check mode, would be) written.
      type: bool
    unit:
      description: What C(linkctl persist) said (C(wrote PATH), C(unchanged PATH), notes).
      type: list
      elements: str
"""

import json
import os
import re
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

# linkctl's exit codes (README "Exit codes").
PLAN_NOTHING = 0
PLAN_PENDING = 2
APPLY_ROLLBACK_UNCHECKED = 4
EX_USAGE = 64
UNIT_NAME = "linkctl-apply.service"
# `ip netns add`'s names, as linkctl checks them (src/linkctl/diagnose/persist.py).
_NETNS_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,254}\Z")


def _source(module):
    """(argument for linkctl, text for its stdin or None, path of the file or None)."""
    raw = module.params["declaration"]
    if isinstance(raw, (dict, list)):
        return "-", json.dumps(raw, indent=2) + "\n", None
    if not isinstance(raw, str) or not raw.strip():
        module.fail_json(msg="declaration: a path on the managed host, inline YAML, or a mapping (got %r)" % (raw,))
    head = raw.lstrip()
    if "\n" in raw.strip() or head.startswith(("{", "---", "interfaces:")):
        return "-", raw if raw.endswith("\n") else raw + "\n", None
    if not os.path.isabs(raw):
        module.fail_json(
            msg="declaration %r: not an absolute path on the managed host; copy the file there first "
            "(ansible.builtin.copy), or pass its content (lookup('file', ...))" % raw
        )
    return raw, None, raw


def _netns_args(netns):
    return ["--netns", netns] if netns else []


def _plan_text(plan):
    changes = plan.get("changes") or []
    lines = ["%d change(s):" % len(changes)] if changes else ["no link changes"]
    for i, step in enumerate(changes, 1):
        lines.append("  %d. %s" % (i, step.get("description", step.get("action", "?"))))
        for argv in step.get("commands") or []:
            lines.append("     $ " + " ".join(shlex.quote(str(a)) for a in argv))
    for other in plan.get("other_changes") or []:
        lines.append("  - %s" % (other if isinstance(other, str) else json.dumps(other, sort_keys=True)))
    for note in plan.get("notes") or []:
        lines.append("  note: %s" % note)
    return "\n".join(lines) + "\n"


class Linkctl(object):
    def __init__(self, module):
        self.module = module
        self.bin = module.params["executable"] or module.get_bin_path(
            "linkctl", required=True, opt_dirs=["/opt/linkctl/bin", "/usr/local/bin"]
        )
        self.last = {"cmd": [], "rc": 0, "stdout": "", "stderr": ""}

    def run(self, args, data=None):
        cmd = [self.bin] + args
        rc, out, err = self.module.run_command(
            cmd, data=data, binary_data=True, environ_update={"NO_COLOR": "1", "LC_ALL": "C.UTF-8"}
        )
        self.last = {"cmd": cmd, "rc": rc, "stdout": out, "stderr": err}
        return rc, out, err

    def fail(self, msg, **extra):
        result = dict(self.last)
        result.update(extra)
        self.module.fail_json(msg=msg, **result)

    def show(self, namespaces):
        """`linkctl show --format yaml` of each namespace, one after the other."""
        parts = []
        for ns in namespaces:
            rc, out, err = self.module.run_command(
                [self.bin, "show", "--format", "yaml"] + _netns_args(ns), environ_update={"NO_COLOR": "1"}
            )
            where = "netns %s" % ns if ns else "the host's namespace"
            if rc != 0:
                out = "# %s: %s\n" % (where, (err.strip() or "not readable").splitlines()[0])
            elif len(namespaces) > 1:
                out = "# %s\n%s" % (where, out)
            parts.append(out)
        return "".join(parts)


def _namespaces(netns, plan):
    seen = [netns]
    for step in plan.get("changes") or []:
        ns = step.get("netns")
        if ns not in seen:
            seen.append(ns)
    return seen


def _message(err, out, fallback):
    text = (err or "").strip() or (out or "").strip()
    return text or fallback


def _persist_name(module, path):
    name = module.params["persist_name"] or (os.path.basename(path) if path else None)
    if not name:
        module.fail_json(msg="persist: give persist_name (the file name under /etc/linkctl) for an inline declaration")
    if "/" in name or name.startswith(".") or name in ("", "..") or any(c.isspace() for c in name):
        module.fail_json(msg="persist_name %r: a plain file name such as 10-bridge.yml" % name)
    if not name.endswith((".yml", ".yaml")):
        name += ".yml"
    return name


def _persist(module, linkctl, name, data, netns):
    root = module.params["persist_root"] or "/"
    conf = os.path.join(root, "etc", "linkctl")
    if netns:
        conf = os.path.join(conf, "netns", netns)  # where `linkctl persist --netns` keeps it
    path = os.path.join(conf, name)
    info = {"path": path, "changed": False, "unit": []}
    if module.check_mode:
        try:
            with open(path, "rb") as f:
                same = f.read() == data
        except (IOError, OSError):
            same = False
        system = os.path.join(root, "etc", "systemd", "system")
        unit_there = os.path.exists(os.path.join(system, UNIT_NAME)) and os.path.lexists(
            os.path.join(system, "multi-user.target.wants", UNIT_NAME)
        )
        info["changed"] = not same or not unit_there
        info["unit"] = ["check mode: %s %s" % (UNIT_NAME, "installed" if unit_there else "would be installed")]
        return info
    # linkctl persist names the kept file after the one it is given: a copy named persist_name.
    staged = tempfile.mkdtemp(prefix="linkctl-persist-", dir=module.tmpdir)
    try:
        source = os.path.join(staged, name)
        try:
            with open(source, "wb") as f:
                f.write(data)
        except (IOError, OSError) as exc:
            linkctl.fail("persist: could not stage %s: %s" % (source, to_native(exc)), persisted=info)
        rc, out, err = linkctl.run(
            ["persist", source, "--root", root, "--linkctl", linkctl.bin] + _netns_args(netns)
        )
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    info["unit"] = out.splitlines()
    if rc != 0:
        linkctl.fail("linkctl persist failed: " + _message(err, out, "exit code %d" % rc), persisted=info)
    if any(line.startswith("wrote ") for line in info["unit"]):
        info["changed"] = True
    return info


def main():
    module = AnsibleModule(
        argument_spec=dict(
            declaration=dict(type="raw", required=True),
            netns=dict(type="str"),
            state=dict(type="str", choices=["present"], default="present"),
            wait=dict(type="float", default=0),
            persist=dict(type="bool", default=False),
            persist_name=dict(type="str"),
            persist_root=dict(type="path", default="/"),
            executable=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    netns = module.params["netns"] or None
    wait = module.params["wait"]
    if wait < 0:
        module.fail_json(msg="wait: %s: seconds, 0 or more" % wait)
    if module.params["persist"] and netns and not _NETNS_NAME.match(netns):
        module.fail_json(msg="netns %r: a namespace name of letters, digits and _.:@+- (as ip netns add)" % netns)
    arg, data, path = _source(module)
    name = _persist_name(module, path) if module.params["persist"] else None
    linkctl = Linkctl(module)

    rc, out, err = linkctl.run(["plan", arg, "--format", "json"] + _netns_args(netns), data=data)
    if rc not in (PLAN_NOTHING, PLAN_PENDING):
        linkctl.fail(_message(err, out, "linkctl plan failed with exit code %d" % rc))
    try:
        plan = json.loads(out)
    except ValueError:
        linkctl.fail("linkctl plan --format json printed no JSON: " + _message(err, out, "(nothing)"))
    notes = [line for line in err.splitlines() if line.strip()]  # plan warns on stderr (a journal left behind)
    result = dict(changed=False, plan=plan)
    if notes:
        result["warnings"] = notes
    pending = rc == PLAN_PENDING
    header = _plan_text(plan)
    namespaces = _namespaces(netns, plan)

    if pending and module.check_mode:
        result["changed"] = True
        if module._diff:
            # Nothing is applied, so there is no "after" to show: the plan's steps are the diff.
            result["diff"] = {"prepared": "linkctl plan (check mode, nothing applied):\n" + header}
    elif pending:
        before = linkctl.show(namespaces) if module._diff else None
        args = ["apply", arg] + _netns_args(netns)
        if wait > 0:
            args += ["--wait", "%g" % wait]
        rc, out, err = linkctl.run(args, data=data)
        if rc != 0:
            hint = ""
            if rc == APPLY_ROLLBACK_UNCHECKED:
                hint = "\nthe rollback could not be checked: the change journal is kept; run `linkctl recover`"
            elif rc == EX_USAGE:
                hint = "\n(linkctl usage error: is this linkctl too old for an option the module passed?)"
            linkctl.fail(_message(err, out, "linkctl apply failed with exit code %d" % rc) + hint, plan=plan)
        result["changed"] = True
        if module._diff:
            result["diff"] = [{"prepared": "linkctl plan:\n" + header}, {
                "before_header": "links before (linkctl show --format yaml)",
                "after_header": "links after",
                "before": before,
                "after": linkctl.show(namespaces),
            }]

    if module.params["persist"]:
        if data is not None:
            content = to_bytes(data)
        else:
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except (IOError, OSError) as exc:
                linkctl.fail("persist: could not read %s: %s" % (path, to_native(exc)))
        last = dict(linkctl.last)
        result["persisted"] = _persist(module, linkctl, name, content, netns)
        linkctl.last = last  # cmd/rc/stdout/stderr stay the plan's or the apply's
        result["changed"] = result["changed"] or result["persisted"]["changed"]

    # Not `rc`: Ansible takes any rc other than 0 for a failure, and plan's 2 (changes pending) is not one.
    last = dict(linkctl.last)
    result.update(cmd=last["cmd"], stdout=last["stdout"], stderr=last["stderr"], linkctl_rc=last["rc"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
