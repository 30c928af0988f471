"""RTM_*LINK's attributes as tables: the link's own, and each kind's IFLA_INFO_DATA.

Numbers and wire types from include/uapi/linux/if_link.h and if_bridge.h (checked
against pyroute2's nla_maps in tests/nla/). One table per nest serves every reader
and writer of it: the kinds decode and encode their data with it (kinds/*.py),
--debug prints requests with its names (kernel/debug.py), and the receipt's
fingerprint leaves out what it marks `volatile` and keeps a port's `kept` settings
(kernel/linkdump.py, on the no-op fast path: this module imports only linkctl.nla).
"""

from __future__ import annotations

from linkctl.nla import (
    WBE16,
    WBIN,
    WFLAG,
    WI32,
    WIP,
    WMAC,
    WNEST,
    WSTR,
    WTEXT,
    WU8,
    WU16,
    WU32,
    WU64,
    Attr,
    Table,
)

RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWNSID = 88
RTM_GETNSID = 90

AF_UNSPEC = 0
AF_BRIDGE = 7
RTEXT_FILTER_VF = 1
RTEXT_FILTER_BRVLAN = 2
RTEXT_FILTER_BRVLAN_COMPRESSED = 4
RTEXT_FILTER_SKIP_STATS = 8
NETNSA_NSID = 1
NETNSA_FD = 3

# The link's own attributes (IFLA_*). Volatile: what the kernel changes with nobody configuring
# anything (counters, carrier and operstate, the qdisc swapped at down/up, IPv6's re-randomised
# reachable time in IFLA_AF_SPEC, the promiscuity and allmulti counts packet sockets raise).
LINK = Table(
    "IFLA_",
    Attr(1, "address", WMAC),
    Attr(2, "broadcast", WMAC),
    Attr(3, "ifname", WSTR),
    Attr(4, "mtu", WU32),
    Attr(5, "link", WU32),
    Attr(6, "qdisc", WSTR, volatile=True),
    Attr(7, "stats", WBIN, volatile=True),
    Attr(10, "master", WU32),
    Attr(13, "txqlen", WU32),
    Attr(16, "operstate", WU8, volatile=True),
    Attr(17, "linkmode", WU8),
    Attr(18, "linkinfo", WNEST),
    Attr(19, "net_ns_pid", WU32),
    Attr(20, "ifalias", WTEXT),
    Attr(23, "stats64", WBIN, volatile=True),
    Attr(26, "af_spec", WNEST, volatile=True),
    Attr(27, "group", WU32),
    Attr(28, "net_ns_fd", WU32),
    Attr(29, "ext_mask", WU32),
    Attr(30, "promiscuity", WU32, volatile=True),
    Attr(31, "num_tx_queues", WU32),
    Attr(32, "num_rx_queues", WU32),
    Attr(33, "carrier", WU8, volatile=True),
    Attr(35, "carrier_changes", WU32, volatile=True),
    Attr(37, "link_netnsid", WI32),
    Attr(39, "proto_down", WU8),
    Attr(47, "carrier_up_count", WU32, volatile=True),
    Attr(48, "carrier_down_count", WU32, volatile=True),
    Attr(50, "min_mtu", WU32),
    Attr(51, "max_mtu", WU32),
    Attr(54, "perm_address", WMAC),
    Attr(57, "parent_dev_bus_name", WSTR),
    Attr(61, "allmulti", WU32, volatile=True),
)

IFLA_LINKINFO = 18
IFLA_AF_SPEC = 26
IFLA_EXT_MASK = 29
# IFLA_LINKINFO. A port's data (IFLA_INFO_SLAVE_DATA) is left out of the fingerprint, counters and
# timers as most of it is, but for the settings its controller's port table marks `kept`.
LINKINFO = Table(
    "IFLA_INFO_",
    Attr(1, "kind", WSTR),
    Attr(2, "data", WNEST),
    Attr(3, "xstats", WBIN),
    Attr(4, "slave_kind", WSTR),
    Attr(5, "slave_data", WNEST),
)
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_INFO_XSTATS = 3
IFLA_INFO_SLAVE_KIND = 4
IFLA_INFO_SLAVE_DATA = 5

_TIMER = WU32  # a bridge timer: clock_t ticks (USER_HZ), in a u32 when set, u64 for the running ones
_U64 = WU64

# linux-bridge (IFLA_BR_*). Volatile: STP root/port/cost/topology state and timers, the multicast
# querier's state; the FDB flush is an action, not a setting.
BRIDGE = Table(
    "IFLA_BR_",
    Attr(1, "forward_delay", _TIMER),
    Attr(2, "hello_time", _TIMER),
    Attr(3, "max_age", _TIMER),
    Attr(4, "ageing_time", _TIMER),
    Attr(5, "stp_state", WU32),
    Attr(6, "priority", WU16),
    Attr(7, "vlan_filtering", WU8),
    Attr(8, "vlan_protocol", WBE16),
    Attr(9, "group_fwd_mask", WU16),
    Attr(10, "root_id", WBIN, volatile=True),
    Attr(11, "bridge_id", WBIN, volatile=True),
    Attr(12, "root_port", WU16, volatile=True),
    Attr(13, "root_path_cost", WU32, volatile=True),
    Attr(14, "topology_change", WU8, volatile=True),
    Attr(15, "topology_change_detected", WU8, volatile=True),
    Attr(16, "hello_timer", _U64, volatile=True),
    Attr(17, "tcn_timer", _U64, volatile=True),
    Attr(18, "topology_change_timer", _U64, volatile=True),
    Attr(19, "gc_timer", _U64, volatile=True),
    Attr(20, "group_addr", WMAC),
    Attr(21, "fdb_flush", WFLAG),
    Attr(22, "mcast_router", WU8),
    Attr(23, "mcast_snooping", WU8),
    Attr(24, "mcast_query_use_ifaddr", WU8),
    Attr(25, "mcast_querier", WU8),
    Attr(26, "mcast_hash_elasticity", WU32),
    Attr(27, "mcast_hash_max", WU32),
    Attr(28, "mcast_last_member_cnt", WU32),
    Attr(29, "mcast_startup_query_cnt", WU32),
    Attr(30, "mcast_last_member_intvl", _U64),
    Attr(31, "mcast_membership_intvl", _U64),
    Attr(32, "mcast_querier_intvl", _U64),
    Attr(33, "mcast_query_intvl", _U64),
    Attr(34, "mcast_query_response_intvl", _U64),
    Attr(35, "mcast_startup_query_intvl", _U64),
    Attr(36, "nf_call_iptables", WU8),
    Attr(37, "nf_call_ip6tables", WU8),
    Attr(38, "nf_call_arptables", WU8),
    Attr(39, "vlan_default_pvid", WU16),
    Attr(40, "pad", WBIN),
    Attr(41, "vlan_stats_enabled", WU8),
    Attr(42, "mcast_stats_enabled", WU8),
    Attr(43, "mcast_igmp_version", WU8),
    Attr(44, "mcast_mld_version", WU8),
    Attr(45, "vlan_stats_per_port", WU8),
    Attr(46, "multi_boolopt", WBIN),
    Attr(47, "mcast_querier_state", WNEST, volatile=True),
    Attr(48, "fdb_n_learned", WU32, volatile=True),
    Attr(49, "fdb_max_learned", WU32),
)

# A bridge's port (IFLA_BRPORT_*, IFLA_INFO_SLAVE_DATA under kind "bridge").
BRIDGE_PORT = Table(
    "IFLA_BRPORT_",
    Attr(1, "state", WU8),
    Attr(2, "priority", WU16, kept=True),
    Attr(3, "cost", WU32, kept=True),
    Attr(4, "mode", WU8, kept=True),  # hairpin
    Attr(5, "guard", WU8),
    Attr(6, "protect", WU8),
    Attr(7, "fast_leave", WU8),
    Attr(8, "learning", WU8),
    Attr(9, "unicast_flood", WU8),
    Attr(10, "proxyarp", WU8),
    Attr(13, "root_id", WBIN),
    Attr(14, "bridge_id", WBIN),
    Attr(15, "designated_port", WU16),
    Attr(16, "designated_cost", WU16),
    Attr(17, "id", WU16),
    Attr(18, "no", WU16),
    Attr(25, "multicast_router", WU8),
    Attr(27, "mcast_flood", WU8),
    Attr(30, "bcast_flood", WU8),
    Attr(31, "group_fwd_mask", WU16),
    Attr(33, "isolated", WU8),
)

# bond (IFLA_BOND_*). Volatile: the active port and the 802.3ad aggregator's state.
BOND = Table(
    "IFLA_BOND_",
    Attr(1, "mode", WU8),
    Attr(2, "active_slave", WU32, volatile=True),
    Attr(3, "miimon", WU32),
    Attr(4, "updelay", WU32),
    Attr(5, "downdelay", WU32),
    Attr(6, "use_carrier", WU8),
    Attr(7, "arp_interval", WU32),
    Attr(8, "arp_ip_target", WNEST),
    Attr(9, "arp_validate", WU32),
    Attr(10, "arp_all_targets", WU32),
    Attr(11, "primary", WU32),
    Attr(12, "primary_reselect", WU8),
    Attr(13, "fail_over_mac", WU8),
    Attr(14, "xmit_hash_policy", WU8),
    Attr(15, "resend_igmp", WU32),
    Attr(16, "num_peer_notif", WU8),
    Attr(17, "all_slaves_active", WU8),
    Attr(18, "min_links", WU32),
    Attr(19, "lp_interval", WU32),
    Attr(20, "packets_per_slave", WU32),
    Attr(21, "ad_lacp_rate", WU8),
    Attr(22, "ad_select", WU8),
    Attr(23, "ad_info", WNEST, volatile=True),
    Attr(24, "ad_actor_sys_prio", WU16),
    Attr(25, "ad_user_port_key", WU16),
    Attr(26, "ad_actor_system", WMAC),
    Attr(27, "tlb_dynamic_lb", WU8),
    Attr(28, "peer_notif_delay", WU32),
    Attr(29, "ad_lacp_active", WU8),
    Attr(30, "missed_max", WU8),
    Attr(31, "ns_ip6_target", WNEST),
)

# A bond's port (IFLA_BOND_SLAVE_*): its state is the kernel's; queue id and priority are settings.
BOND_PORT = Table(
    "IFLA_BOND_SLAVE_",
    Attr(1, "state", WU8),
    Attr(2, "mii_status", WU8),
    Attr(3, "link_failure_count", WU32),
    Attr(4, "perm_hwaddr", WMAC),
    Attr(5, "queue_id", WU16, kept=True),
    Attr(6, "ad_aggregator_id", WU16),
    Attr(9, "prio", WI32, kept=True),
)

# macvlan and macvtap share one netlink layout (drivers/net/macvtap.c reuses macvlan's).
MACVLAN = Table(
    "IFLA_MACVLAN_",
    Attr(1, "mode", WU32),
    Attr(2, "flags", WU16),
    Attr(3, "macaddr_mode", WU32),
    Attr(4, "macaddr", WMAC),
    Attr(5, "macaddr_data", WNEST),
    Attr(6, "macaddr_count", WU32),
    Attr(7, "bc_queue_len", WU32),
    Attr(8, "bc_queue_len_used", WU32),
    Attr(9, "bc_cutoff", WI32),
)

IPVLAN = Table("IFLA_IPVLAN_", Attr(1, "mode", WU16), Attr(2, "flags", WU16))

VLAN = Table(
    "IFLA_VLAN_",
    Attr(1, "id", WU16),
    Attr(2, "flags", WBIN),
    Attr(3, "egress_qos", WNEST),
    Attr(4, "ingress_qos", WNEST),
    Attr(5, "protocol", WBE16),
)

VXLAN = Table(
    "IFLA_VXLAN_",
    Attr(1, "id", WU32),
    Attr(2, "group", WIP),
    Attr(3, "link", WU32),
    Attr(4, "local", WIP),
    Attr(5, "ttl", WU8),
    Attr(6, "tos", WU8),
    Attr(7, "learning", WU8),
    Attr(8, "ageing", WU32),
    Attr(9, "limit", WU32),
    Attr(10, "port_range", WBIN),
    Attr(11, "proxy", WU8),
    Attr(12, "rsc", WU8),
    Attr(13, "l2miss", WU8),
    Attr(14, "l3miss", WU8),
    Attr(15, "port", WBE16),
    Attr(16, "group6", WIP),
    Attr(17, "local6", WIP),
    Attr(18, "udp_csum", WU8),
    Attr(19, "udp_zero_csum6_tx", WU8),
    Attr(20, "udp_zero_csum6_rx", WU8),
    Attr(21, "remcsum_tx", WU8),
    Attr(22, "remcsum_rx", WU8),
    Attr(23, "gbp", WFLAG),
    Attr(24, "remcsum_nopartial", WFLAG),
    Attr(25, "collect_metadata", WU8),
    Attr(26, "label", WU32),
    Attr(27, "gpe", WFLAG),
    Attr(28, "ttl_inherit", WU8),
    Attr(29, "df", WU8),
)

VETH = Table("VETH_INFO_", Attr(1, "peer", WNEST))  # the peer's own ifinfomsg and IFLA_* attributes
VETH_INFO_PEER = 1

# A kind's IFLA_INFO_DATA table, and a controller's table for its ports' IFLA_INFO_SLAVE_DATA,
# by IFLA_INFO_KIND.
KIND_DATA: dict[str, Table] = {
    "bridge": BRIDGE,
    "bond": BOND,
    "macvlan": MACVLAN,
    "macvtap": MACVLAN,
    "ipvlan": IPVLAN,
    "vlan": VLAN,
    "vxlan": VXLAN,
    "veth": VETH,
}
PORT_DATA: dict[str, Table] = {"bridge": BRIDGE_PORT, "bond": BOND_PORT}

# What the fingerprint reads by kind name as the kernel writes it (with its NUL).
VOLATILE_KIND_DATA = {k.encode(): t.volatile for k, t in KIND_DATA.items() if t.volatile}
KEPT_PORT_DATA = {k.encode(): t.kept for k, t in PORT_DATA.items() if t.kept}

# IFLA_AF_SPEC of family AF_BRIDGE (if_bridge.h): `bridge vlan` requests and RTEXT_FILTER_BRVLAN dumps.
BRIDGE_AF = Table(
    "IFLA_BRIDGE_",
    Attr(0, "flags", WU16),
    Attr(1, "mode", WU16),
    Attr(2, "vlan_info", WBIN),  # struct bridge_vlan_info {u16 flags; u16 vid}
    Attr(3, "vlan_tunnel_info", WNEST),
)
IFLA_BRIDGE_FLAGS = 0
IFLA_BRIDGE_VLAN_INFO = 2
BRIDGE_FLAGS_MASTER = 1
BRIDGE_VLAN_INFO_MASTER = 1
BRIDGE_VLAN_INFO_PVID = 2
BRIDGE_VLAN_INFO_UNTAGGED = 4
BRIDGE_VLAN_INFO_RANGE_BEGIN = 8
BRIDGE_VLAN_INFO_RANGE_END = 16
