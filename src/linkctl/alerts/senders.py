"""Alert senders: SMTP email, a signed JSON webhook, Prometheus Alertmanager (API v2).

Each sender has a `name` (the receiver's, as the queue knows it) and
`send(alert)`, which returns when the receiver took the alert and raises
:class:`DeliveryError` otherwise. Error texts never contain a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from pydantic import SecretStr

from linkctl.alerts.config import (
    AlertmanagerReceiver,
    AlertsConfig,
    Receiver,
    SmtpReceiver,
    WebhookReceiver,
)
from linkctl.alerts.model import Alert, AlertGroup, DeliveryError, Notification, members
from linkctl.domain.down import DownSpell
from linkctl.domain.episodes import EpisodeEdge

SIGNATURE_HEADER = "X-Linkctl-Signature"
DELIVERY_HEADER = "X-Linkctl-Delivery"


class Sender(Protocol):
    name: str

    def send(self, alert: Notification) -> None: ...


class SmtpSender:
    """Mails an alert to every address in `to`.

    A server may take some recipients and refuse others (550 at RCPT TO: a mailbox gone).
    That alert is not delivered: send raises, naming each refused address with the server's
    code and words, so the queue retries it. The retry goes only to the addresses not yet
    served (remembered by the alert's key while this process runs), so those who got it do
    not get it again; after a restart it goes to all (delivery is at least once).
    """

    def __init__(self, config: SmtpReceiver, password: SecretStr | None = None) -> None:
        self.name = config.name
        self.config = config
        self._password = password
        self._served: dict[str, set[str]] = {}  # alert key -> recipients the server took

    def __repr__(self) -> str:
        return f"SmtpSender({self.name!r}, {self.config.host}:{self.config.port})"

    def message(self, alert: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = alert.subject()
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.config.to)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="linkctl")
        msg["X-Linkctl-Alert"] = alert.key
        msg.set_content(alert.text())
        return msg

    def send(self, alert: Notification) -> None:
        cfg = self.config
        served = self._served.get(alert.key, set())
        to = [address for address in cfg.to if address not in served]
        try:
            with self._connect() as smtp:
                if cfg.username and self._password is not None:
                    smtp.login(cfg.username, self._password.get_secret_value())
                refused = smtp.send_message(self.message(alert), to_addrs=to)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{self.name}: SMTP login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:  # every one of them refused
            raise DeliveryError(f"{self.name}: {cfg.host}:{cfg.port}: {_refused(exc.recipients)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{self.name}: {cfg.host}:{cfg.port}: {_describe(exc)}") from None
        self._settle(alert.key, served | (set(to) - set(refused)), refused)

    def _settle(self, key: str, served: set[str], refused: dict[str, tuple[int, bytes]]) -> None:
        """Forgets a delivered alert; keeps who was served of a partly refused one, and raises."""
        if not refused:
            self._served.pop(key, None)
            return
        self._served[key] = served
        if len(self._served) > _SERVED_KEPT:  # alerts that went dead: the oldest go first
            del self._served[next(iter(self._served))]
        cfg = self.config
        raise DeliveryError(f"{self.name}: {cfg.host}:{cfg.port}: {_refused(refused)}")

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
        if cfg.ssl:
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp


_SERVED_KEPT = 1000


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    """ "recipient refused: gone@example.org (550 5.1.1 no such mailbox)", each address."""
    words = [f"{address} ({code} {_text(reply)})" for address, (code, reply) in sorted(recipients.items())]
    return "recipient refused: " + ", ".join(words)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """For receivers (and tests): constant-time check of a signature header."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


class WebhookSender:
    """POSTs the alert as JSON, signed with HMAC-SHA256 over the body."""

    def __init__(self, config: WebhookReceiver, secret: SecretStr) -> None:
        self.name = config.name
        self.config = config
        self._secret = secret

    def __repr__(self) -> str:
        return f"WebhookSender({self.name!r}, {self.config.url})"

    def send(self, alert: Notification) -> None:
        body = json.dumps(alert.to_json(), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret.get_secret_value().encode(), body),
            DELIVERY_HEADER: alert.key,  # receivers can drop a repeat after a crash
        }
        _post(self.name, self.config.url, body, headers, self.config.timeout)


class AlertmanagerSender:
    """Prometheus Alertmanager, `POST /api/v2/alerts`.

    A start alert has no endsAt, so Alertmanager keeps it for its
    resolve_timeout; the dispatcher re-posts firing alerts (`resend`) more often
    than that. An end alert carries endsAt, which resolves it.
    """

    def __init__(self, config: AlertmanagerReceiver) -> None:
        self.name = config.name
        self.config = config

    def __repr__(self) -> str:
        return f"AlertmanagerSender({self.name!r}, {self.config.url})"

    @staticmethod
    def payload(alert: Notification) -> list[dict[str, Any]]:
        """One Alertmanager alert per link. A group's cause goes in an annotation, not a label:
        the labels are the alert's identity, and the re-posts of firing alerts carry none."""
        cause = alert.cause if isinstance(alert, AlertGroup) else None
        items = [AlertmanagerSender._item(member) for member in members(alert)]
        if cause is not None:
            for item in items:
                item["annotations"]["cause"] = cause
        return items

    @staticmethod
    def _item(alert: Alert) -> dict[str, Any]:
        ep = alert.episode
        item: dict[str, Any] = {
            "labels": {
                "alertname": alert.alertname,
                "host": alert.host,
                "ifname": ep.ifname,
                "netns": ep.netns or "",  # Alertmanager drops an empty label
                "severity": alert.severity,
            },
            "annotations": {
                "summary": alert.subject().removeprefix("[linkctl] "),
                "description": alert.text(),
            },
            "startsAt": ep.start.isoformat(),
        }
        if isinstance(ep, DownSpell):
            item["annotations"]["down_seconds"] = f"{ep.down_seconds(ep.fired):.1f}"
            if alert.edge is EpisodeEdge.END:
                item["endsAt"] = (ep.end or ep.fired).isoformat()
            return item
        item["annotations"]["transitions"] = str(ep.transitions)
        item["annotations"]["down_seconds"] = f"{ep.down_seconds:.1f}"
        if alert.edge is EpisodeEdge.END:
            ends = ep.cleared_at or ep.end or ep.start
            item["endsAt"] = ends.isoformat()
        return item

    def send(self, alert: Notification) -> None:
        body = json.dumps(self.payload(alert)).encode()
        url = self.config.url.rstrip("/") + "/api/v2/alerts"
        headers = {"Content-Type": "application/json"}
        _post(self.name, url, body, headers, self.config.timeout)


def _post(name: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{name}: {url}: HTTP {exc.code} {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{name}: {url}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        return _describe(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def build_senders(config: AlertsConfig) -> list[Sender]:
    """One sender per configured receiver; reads the secrets (SecretUnavailable if it can't)."""
    return [_build(receiver) for receiver in config.receivers]


def _build(receiver: Receiver) -> Sender:
    if isinstance(receiver, SmtpReceiver):
        return SmtpSender(receiver, receiver.password())
    if isinstance(receiver, WebhookReceiver):
        return WebhookSender(receiver, receiver.secret())
    return AlertmanagerSender(receiver)
