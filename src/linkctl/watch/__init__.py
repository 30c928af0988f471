"""The live-watch capability.

The pure part, fed by the service loop and tested without sockets:

- :mod:`linkctl.watch.transitions`: carrier counters -> events with transition
  counts (coalesced messages, resync gaps, counter resets).
- :mod:`linkctl.watch.flap`: the rate rule and Nagios's percent state change.
- :mod:`linkctl.watch.core`: WatchCore, the pure object the daemon feeds
  (see its docstring for the daemon loop).
- :mod:`linkctl.watch.kernel_log`: kernel log lines as the core joins them.

The records it produces (LinkEvent, CounterSnapshot, FlapEpisode, FlapNotice) are
:mod:`linkctl.domain`'s, shared with the store and the alerts.

The sources and the service: :mod:`~linkctl.watch.netlink_feed`,
:mod:`~linkctl.watch.followers` (the kernel log), :mod:`~linkctl.watch.down_evidence`,
:mod:`~linkctl.watch.recorder` (the store, and what it missed),
:mod:`~linkctl.watch.alert_worker`, :mod:`~linkctl.watch.signals`, and the loop that joins
them, :mod:`~linkctl.watch.daemon` (inotify, systemd's notify protocol and the namespace
entry probe are the system's, in :mod:`linkctl.kernel`);
:mod:`~linkctl.watch.config` (watch.yaml) and :mod:`~linkctl.watch.metrics` (the
Prometheus exposition).
"""
