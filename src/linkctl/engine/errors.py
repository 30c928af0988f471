"""What to do about the kernel's answers, in words an operator can act on."""

from __future__ import annotations

import errno

from linkctl.errors import LinkctlError
from linkctl.kernel.netlink import Ack
from linkctl.plan.ops import CreateLink, MoveLink, Op, SetLink

_ADVICE = {
    errno.EEXIST: (
        "RTNETLINK answers: File exists. A link with this name (or this VXLAN VNI and port) "
        "already exists. Run `linkctl show` to see it; declare it with its existing type to adopt "
        "it, or give the new link another name."
    ),
    errno.ENODEV: (
        "RTNETLINK answers: No such device. A link this step refers to is gone (deleted or "
        "renamed since the plan was made): run `linkctl plan` again."
    ),
    errno.EPERM: (
        "RTNETLINK answers: Operation not permitted. Changing links needs CAP_NET_ADMIN: "
        "run as root (sudo linkctl ...)."
    ),
    errno.EOPNOTSUPP: (
        "RTNETLINK answers: Operation not supported. This kernel or driver cannot do it: "
        "check the kind's module is loaded (`linkctl doctor`)."
    ),
    errno.EBUSY: (
        "RTNETLINK answers: Device or resource busy. A link that is a bridge or bond port cannot "
        "carry a mac-vlan, nor join a controller while it carries one. Some changes (a MAC address "
        "on some devices, enslaving to a bond) need the link down first: declare state: down, "
        "apply, then declare the change."
    ),
    errno.EADDRINUSE: (
        "RTNETLINK answers: Address already in use. Another link on the same base (or the base "
        "itself) has this MAC address, and a mac-vlan or vlan needs its own: pick another "
        "mac-address, or leave it out for a random one."
    ),
    errno.ERANGE: "The value is outside the range the device accepts (see min/max in `linkctl show`).",
}


def explain(ack: Ack, op: Op) -> str:
    advice = _ADVICE.get(ack.errno)
    if ack.errno == errno.EINVAL and isinstance(op, SetLink) and op.props.mtu is not None:
        advice = (
            "The MTU was refused: a stacked link (vxlan, macvlan, vlan) cannot exceed its "
            "base device's MTU less the encapsulation, and each device has a min/max "
            "(`linkctl show`)."
        )
    elif ack.errno == errno.EEXIST and isinstance(op, MoveLink):
        advice = "A link with this name already exists in the target namespace: rename or delete it there first."
    elif ack.errno == errno.EOPNOTSUPP and isinstance(op, SetLink) and op.props.mac is not None:
        advice = (
            "RTNETLINK answers: Operation not supported. This device's driver cannot change its MAC "
            "address (ifb, some virtual and USB NICs): leave mac-address out for this link."
        )
    elif ack.errno == errno.EOPNOTSUPP and isinstance(op, CreateLink) and op.kind is not None:
        advice = f"This kernel cannot create {op.kind.kernel_kind} links: `modprobe {op.kind.module}`."
    if advice:
        return advice
    if ack.text:  # printed with the errno by Ack.describe(), on the line above this one
        return "The kernel's message above says why; `--debug` shows the request."
    # Without an extended ack there is no message above: say so rather than point at nothing.
    return "The kernel gave no reason beyond the error above; `--debug` shows the request that was refused."


class RemediationFailed(LinkctlError):
    """An ethtool, /sys or module-parameter write was refused; its own changes are undone."""
