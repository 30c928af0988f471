"""The netlink codec moved to linkctl/nla.py, below the kinds that encode with it.

These names stay importable from here for watch/daemon.py, engine/trial.py and
bench/watch_latency.py, which others are changing now; once they import linkctl.nla
this module goes.
"""

from __future__ import annotations

from linkctl.nla import IFINFOMSG, NLMSG_ERROR, NLMSG_OVERRUN, iter_attrs, iter_messages

__all__ = ["IFINFOMSG", "NLMSG_ERROR", "NLMSG_OVERRUN", "iter_attrs", "iter_messages"]
