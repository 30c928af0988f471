"""An SMTP server that refuses one of the alert's two recipients (550 at RCPT TO) and takes the
other. Before the fix linkctl marked the alert sent and said nothing; now it stays pending, its
error (and the log line) names the refused address with the server's code and words."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime

from aiosmtpd.controller import Controller

from linkctl.alerts import AlertDispatcher, AlertsConfig, SmtpReceiver, build_senders
from linkctl.domain.episodes import EpisodeEdge, FlapEpisode, FlapNotice, FlapTrigger
from linkctl.store import open_store
from linkctl.watch.core import WatchOutput
from tests.alerts.servers import free_port
from tests.watch.test_review_smtp import REFUSED, Picky

server, port = Picky(), free_port()
controller = Controller(server, hostname="127.0.0.1", port=port)
controller.start()
try:
    to = ["noc@example.org", REFUSED]
    receiver = SmtpReceiver.model_validate(
        {"type": "smtp", "name": "mail", "host": "127.0.0.1", "port": port, "starttls": False, "from": "l@x", "to": to}
    )
    cfg = AlertsConfig(host="web-01", receivers=[receiver])
    with open_store(f"sqlite://{tempfile.mkdtemp(prefix='lkwr-')}/alerts.db") as store:
        dispatcher = AlertDispatcher(store, build_senders(cfg), cfg)
        ep = FlapEpisode("blue", "eth0", 7, datetime.now(UTC), 6, 2.5, FlapTrigger.RATE, peak_percent=12.0)
        store.record(WatchOutput(notices=[FlapNotice(EpisodeEdge.START, ep)]), dispatcher.receivers)
        report = dispatcher.deliver_due(datetime.now(UTC))
        print("recipients configured:", to)
        print("the server delivered to:", server.delivered, f"(refused {REFUSED}: 550)")
        print("linkctl's report:", report)
        print("alert rows:", [(a.alert_key, a.state, a.last_error) for a in store.alerts()])
finally:
    controller.stop()
