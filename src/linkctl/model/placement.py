"""Where a stacked link's base is: the one rule validation, planning and `show` share.

A mac-vlan's, vlan's or VXLAN's `base-iface` names a link of its own namespace. A link
declared with `netns:` whose base is not there is made, as `ip link add link eth0 name mv0
netns ctr type macvlan` makes it, on the base of the file's default namespace (`--netns`,
or the host's) and placed in its own: a container's mac-vlan over the host's NIC. The
kernel then reports the base's index in that other namespace (IFLA_LINK_NETNSID).
"""

from __future__ import annotations

from collections.abc import Callable

from linkctl.model.state import HostState, Link, NetnsName

Exists = Callable[[str, NetnsName], bool]


def base_netns(base: str, own: NetnsName, default: NetnsName, explicit: bool, exists: Exists) -> NetnsName:
    """The namespace the base named `base` of a link in `own` is looked up in.

    `explicit`: the link's entry says `netns:` (only then may its base be the default namespace's).
    """
    if own == default or not explicit or exists(base, own) or not exists(base, default):
        return own
    return default


def current_base(
    host: HostState, link: Link, lower_ifindex: int | None, where: NetnsName, say_elsewhere: bool = False
) -> str | None:
    """The name of the link `link` stands on, when it is in `where` (its own namespace, or the one
    the rule allows); a base anywhere else has no name in the file's terms: None, or with
    `say_elsewhere` "eth0@blue", which no declared name equals (a plan then says where it is)."""
    lower = host.in_link_net(link, lower_ifindex)
    if lower is None:
        return None
    if lower.netns in (link.netns, where):
        return lower.name
    return f"{lower.name}@{lower.netns or 'default'}" if say_elsewhere else None
