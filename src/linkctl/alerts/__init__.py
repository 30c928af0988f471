"""Alerts for flap episodes: SMTP, signed webhook, Prometheus Alertmanager.

config = WatchConfig.load(path).alerts            # pydantic, from watch.yaml
dispatcher = AlertDispatcher(store, build_senders(config), config)
store.record(core_output, dispatcher.receivers)   # queue notices durably
dispatcher.deliver_due(now)                       # every second or so
dispatcher.resend_firing(core.flaps.open_episodes(), now)
"""

from __future__ import annotations

from linkctl.alerts.config import (
    AlertmanagerReceiver,
    AlertsConfig,
    RateLimit,
    Retry,
    SecretUnavailable,
    SmtpReceiver,
    WebhookReceiver,
)
from linkctl.alerts.dispatch import AlertDispatcher, DeliveryReport, backoff
from linkctl.alerts.model import ALERT_NAME, Alert, DeliveryError
from linkctl.alerts.senders import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    AlertmanagerSender,
    Sender,
    SmtpSender,
    WebhookSender,
    build_senders,
    sign,
    verify,
)

__all__ = [
    "ALERT_NAME",
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "Alert",
    "AlertDispatcher",
    "AlertmanagerReceiver",
    "AlertmanagerSender",
    "AlertsConfig",
    "DeliveryError",
    "DeliveryReport",
    "RateLimit",
    "Retry",
    "SecretUnavailable",
    "Sender",
    "SmtpReceiver",
    "SmtpSender",
    "WebhookReceiver",
    "WebhookSender",
    "backoff",
    "build_senders",
    "sign",
    "verify",
]
