"""The changes a plan is made of: typed, ordered, each with its iproute2 equivalent."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from linkctl.kinds.base import FieldDiff, LinkKind
from linkctl.model.spec import InterfaceSpec
from linkctl.model.state import NetnsName


@dataclass(frozen=True)
class Props:
    """Common link properties; None leaves the kernel's value."""

    mtu: int | None = None
    mac: str | None = None
    txqlen: int | None = None
    promisc: bool | None = None
    up: bool | None = None
    alias: str | None = None  # the description (IFLA_IFALIAS); "" clears it

    def ip_args(self) -> list[str]:
        args: list[str] = []
        if self.mac is not None:
            args += ["address", self.mac]
        if self.mtu is not None:
            args += ["mtu", str(self.mtu)]
        if self.txqlen is not None:
            args += ["txqueuelen", str(self.txqlen)]
        if self.promisc is not None:
            args += ["promisc", "on" if self.promisc else "off"]
        if self.alias is not None:
            args += ["alias", self.alias]
        if self.up is not None:
            args.append("up" if self.up else "down")
        return args

    @property
    def empty(self) -> bool:
        return self == Props()


def _ip(netns: NetnsName) -> list[str]:
    return ["ip", "-n", netns] if netns else ["ip"]


@dataclass(frozen=True)
class Op:
    name: str
    netns: NetnsName
    reason: str = ""

    @property
    def verb(self) -> str:
        raise NotImplementedError

    def ip_command(self) -> list[str]:
        raise NotImplementedError

    def ip_commands(self) -> list[list[str]]:
        """Every command the op stands for: most are one."""
        return [self.ip_command()]

    def where(self) -> str:
        return f"{self.name} (netns {self.netns})" if self.netns else self.name

    def describe(self) -> str:
        text = f"{self.verb} {self.where()}"
        return f"{text}: {self.reason}" if self.reason else text


@dataclass(frozen=True)
class CreateNetns(Op):
    verb = "create netns"

    def ip_command(self) -> list[str]:
        return ["ip", "netns", "add", self.name]

    def where(self) -> str:
        return self.name


@dataclass(frozen=True)
class PeerCreate:
    name: str
    netns: NetnsName
    props: Props = Props()
    master: str | None = None


@dataclass(frozen=True)
class CreateLink(Op):
    spec: InterfaceSpec | None = None
    kind: LinkKind | None = None
    props: Props = Props()
    master: str | None = None  # enslaved in the creating request (bridge ports)
    peer: PeerCreate | None = None
    lower: str | None = None  # IFLA_LINK
    # A link whose base is in another namespace (model/placement.py) is made there and placed in
    # its own (IFLA_NET_NS_FD), as `ip link add link eth0 ... netns ctr` does.
    made_in: tuple[NetnsName] | None = None  # (base's namespace,) when that is not its own
    verb = "create"

    def ip_command(self) -> list[str]:
        assert self.spec is not None and self.kind is not None
        cmd = [*_ip(self.made_in[0] if self.made_in else self.netns), "link", "add"]
        if self.lower:
            cmd += ["link", self.lower]
        cmd += ["name", self.name, *replace(self.props, alias=None).ip_args()]
        if self.made_in:
            cmd += ["netns", self.netns or "1"]  # pid 1's namespace stands for the default one
        if self.master:
            cmd += ["master", self.master]
        if self.peer is None:
            return cmd + self.kind.ip_args(self.spec)
        peer = self.peer
        cmd += ["type", self.kind.kernel_kind or "veth", "peer", "name", peer.name]
        if peer.netns != self.netns:
            cmd += ["netns", peer.netns or "1"]  # pid 1's namespace stands for the default one
        return cmd + replace(peer.props, up=None, alias=None).ip_args()

    def ip_commands(self) -> list[list[str]]:
        # veth_open() refuses to bring a peer up before the pair exists: iproute2 needs a second command too.
        # The kernel ignores an alias in the request that creates a link: it is set by another.
        cmds = [self.ip_command(), *_alias_cmd(self.netns, self.name, self.props.alias)]
        if self.peer is None:
            return cmds
        cmds += _alias_cmd(self.peer.netns, self.peer.name, self.peer.props.alias)
        if self.peer.props.up is None:
            return cmds
        state = "up" if self.peer.props.up else "down"
        return [*cmds, [*_ip(self.peer.netns), "link", "set", "dev", self.peer.name, state]]


def _alias_cmd(netns: NetnsName, name: str, alias: str | None) -> list[list[str]]:
    return [[*_ip(netns), "link", "set", "dev", name, "alias", alias]] if alias else []


@dataclass(frozen=True)
class DeleteLink(Op):
    addresses: tuple[str, ...] = ()  # what it carries, when the plan was told: gone with it
    verb = "delete"

    def describe(self) -> str:
        text = super().describe()
        if self.addresses:
            text += f" (its addresses {', '.join(self.addresses)} go with it)"
        return text

    def ip_command(self) -> list[str]:
        return [*_ip(self.netns), "link", "del", "dev", self.name]


@dataclass(frozen=True)
class MoveLink(Op):
    to_netns: NetnsName = None
    addresses: tuple[str, ...] | None = None  # what it carries now, when the plan was told (not link-local)
    verb = "move"

    def describe(self) -> str:
        dest = self.to_netns or "the default namespace"
        if self.addresses is None:
            lost = "its addresses and routes are dropped by the kernel and must be configured again there"
        elif self.addresses:
            lost = (
                f"the kernel drops its addresses {', '.join(self.addresses)} and the routes through it; "
                "configure them again there"
            )
        else:
            lost = "it carries no addresses to lose"
        return f"move {self.where()} to netns {dest}: {lost}"

    def ip_command(self) -> list[str]:
        dest = self.to_netns or "1"  # pid 1's namespace stands for the default one
        return [*_ip(self.netns), "link", "set", "dev", self.name, "netns", dest]


@dataclass(frozen=True)
class SetLink(Op):
    """Change properties in place; `diffs` say what differs, for the plan's text."""

    props: Props = Props()
    spec: InterfaceSpec | None = None
    kind: LinkKind | None = None
    kind_fields: frozenset[str] = frozenset()
    diffs: tuple[FieldDiff, ...] = field(default=())
    verb = "set"

    def describe(self) -> str:
        changes = ", ".join(str(d) for d in self.diffs)
        return f"set {self.where()}: {changes}" if changes else f"set {self.where()}"

    def ip_command(self) -> list[str]:
        cmd = [*_ip(self.netns), "link", "set", "dev", self.name, *self.props.ip_args()]
        if self.kind_fields and self.kind and self.spec:
            cmd += self.kind.ip_args(self.spec, self.kind_fields)
        return cmd


@dataclass(frozen=True)
class RenameLink(Op):
    """Give `old_name` the name `name` in place (IFLA_IFNAME on its index).

    The kernel renames only a link that is down (EBUSY otherwise): one that is up goes down
    for it, and comes up again unless a move follows (the move brings it down anyway).
    """

    old_name: str = ""
    was_up: bool = False
    up_after: bool = False
    verb = "rename"

    def describe(self) -> str:
        where = f" (netns {self.netns})" if self.netns else ""
        text = f"rename {self.old_name}{where} to {self.name}"
        return f"{text}: {self.reason}" if self.reason else text

    def ip_command(self) -> list[str]:
        return [*_ip(self.netns), "link", "set", "dev", self.old_name, "name", self.name]

    def ip_commands(self) -> list[list[str]]:
        down = [[*_ip(self.netns), "link", "set", "dev", self.old_name, "down"]] if self.was_up else []
        up = [[*_ip(self.netns), "link", "set", "dev", self.name, "up"]] if self.up_after else []
        return [*down, self.ip_command(), *up]


@dataclass(frozen=True)
class SetPort(Op):
    """Change a port's own settings under its controller (IFLA_INFO_SLAVE_DATA): `data` is that
    payload, `args` the `ip link set dev PORT type bridge_slave ...` words, both made by the kind."""

    master: str = ""
    slave_kind: str = "bridge"
    data: bytes = b""
    args: tuple[str, ...] = ()
    diffs: tuple[FieldDiff, ...] = field(default=())
    verb = "set port"

    def describe(self) -> str:
        return f"set {self.where()} as a port of {self.master}: " + ", ".join(str(d) for d in self.diffs)

    def ip_command(self) -> list[str]:
        return [*_ip(self.netns), "link", "set", "dev", self.name, *self.args]


@dataclass(frozen=True)
class SetMaster(Op):
    master: str | None = None  # None releases the link from its master
    down_first: bool = False  # the bonding driver enslaves only links that are down
    addresses: tuple[str, ...] = ()  # what a link made a port carries, when the plan was told
    verb = "set master"

    def describe(self) -> str:
        if self.master is None:
            return f"release {self.where()} from its master" + (f": {self.reason}" if self.reason else "")
        text = f"enslave {self.where()} to {self.master}"
        if self.addresses:
            # The seeds' "master ... ignore the individual interface's Layer 3 configuration".
            text += (
                f": it carries {', '.join(self.addresses)}, which a port no longer answers on; "
                f"move them to {self.master}"
            )
        return text

    def ip_command(self) -> list[str]:
        tail = ["nomaster"] if self.master is None else ["master", self.master]
        return [*_ip(self.netns), "link", "set", "dev", self.name, *tail]


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Changes outside RTNETLINK (ethtool settings, module parameters), described by the
    # engine that plans them: one line each, with its command.
    extra: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.ops and not self.extra

    @property
    def size(self) -> int:
        return len(self.ops) + len(self.extra)
