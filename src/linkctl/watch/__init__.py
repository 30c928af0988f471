"""The live-watch capability, minus the sockets.

- :mod:`linkctl.domain.events` and :mod:`linkctl.domain.episodes` hold the typed
  records it produces (LinkEvent, CounterSnapshot, FlapEpisode, FlapNotice), shared
  with the store and the alerts; :mod:`linkctl.watch.kernel_log`: KernelLogRecord.
- :mod:`linkctl.watch.transitions`: carrier counters -> events with transition
  counts (coalesced messages, resync gaps, counter resets).
- :mod:`linkctl.watch.flap`: the rate rule and Nagios's percent state change.
- :mod:`linkctl.watch.core`: WatchCore, the pure object the daemon feeds
  (see its docstring for the daemon loop).
- :mod:`linkctl.watch.config`: watch.yaml.
- :mod:`linkctl.watch.metrics`: the Prometheus exposition.
"""
