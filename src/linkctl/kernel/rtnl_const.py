"""RTNETLINK numbers from include/uapi/linux/{rtnetlink,if_link,netlink}.h that linkctl uses.

The message types and nest numbers are the wire layer's (linkctl/nla/ifla.py, with the
attribute tables); the top-level IFLA_* numbers named here are for kernel/ code that spells
them C.X (the codec itself goes by the link table's names), and the tests hold them equal to
ifla.LINK's.
"""

from linkctl.nla.ifla import (  # re-exported: kernel/ code spells them C.X
    AF_BRIDGE as AF_BRIDGE,
)
from linkctl.nla.ifla import (
    AF_UNSPEC as AF_UNSPEC,
)
from linkctl.nla.ifla import (
    IFLA_AF_SPEC as IFLA_AF_SPEC,
)
from linkctl.nla.ifla import (
    IFLA_INFO_DATA as IFLA_INFO_DATA,
)
from linkctl.nla.ifla import (
    IFLA_INFO_KIND as IFLA_INFO_KIND,
)
from linkctl.nla.ifla import (
    IFLA_INFO_SLAVE_DATA as IFLA_INFO_SLAVE_DATA,
)
from linkctl.nla.ifla import (
    IFLA_INFO_SLAVE_KIND as IFLA_INFO_SLAVE_KIND,
)
from linkctl.nla.ifla import (
    IFLA_INFO_XSTATS as IFLA_INFO_XSTATS,
)
from linkctl.nla.ifla import (
    NETNSA_FD as NETNSA_FD,
)
from linkctl.nla.ifla import (
    NETNSA_NSID as NETNSA_NSID,
)
from linkctl.nla.ifla import (
    RTEXT_FILTER_BRVLAN as RTEXT_FILTER_BRVLAN,
)
from linkctl.nla.ifla import (
    RTEXT_FILTER_SKIP_STATS as RTEXT_FILTER_SKIP_STATS,
)
from linkctl.nla.ifla import (
    RTM_DELLINK as RTM_DELLINK,
)
from linkctl.nla.ifla import (
    RTM_GETLINK as RTM_GETLINK,
)
from linkctl.nla.ifla import (
    RTM_GETNSID as RTM_GETNSID,
)
from linkctl.nla.ifla import (
    RTM_NEWLINK as RTM_NEWLINK,
)
from linkctl.nla.ifla import (
    RTM_NEWNSID as RTM_NEWNSID,
)
from linkctl.nla.ifla import (
    RTM_SETLINK as RTM_SETLINK,
)

RTMGRP_LINK = 0x1

IFLA_ADDRESS = 1
IFLA_BROADCAST = 2
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_TXQLEN = 13
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_NET_NS_PID = 19
IFLA_STATS64 = 23
IFLA_GROUP = 27
IFLA_NET_NS_FD = 28
IFLA_EXT_MASK = 29
IFLA_PROMISCUITY = 30
IFLA_NUM_TX_QUEUES = 31
IFLA_CARRIER = 33
IFLA_CARRIER_CHANGES = 35
IFLA_LINK_NETNSID = 37
IFLA_CARRIER_UP_COUNT = 47
IFLA_CARRIER_DOWN_COUNT = 48
IFLA_MIN_MTU = 50
IFLA_MAX_MTU = 51
IFLA_PERM_ADDRESS = 54
IFLA_PARENT_DEV_BUS_NAME = 57

SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_NO_ENOBUFS = 5
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
