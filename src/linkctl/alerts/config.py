"""The `alerts:` part of watch.yaml.

    alerts:
      host: web-01                 # the `host` label; default: this machine's name
      severity: warning
      rate_limit: {max_per_link: 6, window: 1h}     # episode-start alerts per link
      retry: {initial: 5s, max: 10m, give_up_after: 7d}
      alertmanager_resend: 60s     # re-post firing alerts so Alertmanager keeps them
      group_wait: 10s              # tied links (veth pair, bridge and ports): one notification
      link_down: {for: 60s}        # a link (admin up) without carrier this long; {enabled: false}: off
      receivers:
        - {name: mail, type: smtp, host: smtp.example.org, port: 587, starttls: true,
           username: linkctl, password_file: /etc/linkctl/smtp.pass,
           from: linkctl@example.org, to: [noc@example.org]}
        - {name: hook, type: webhook, url: "https://hooks.example.org/linkctl",
           secret_env: LINKCTL_WEBHOOK_SECRET}
        - {name: am, type: alertmanager, url: "http://127.0.0.1:9093"}

Secrets are read from a file or an environment variable, never written in the
file itself, and are held as SecretStr so that no repr or log line shows them.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator

from linkctl.errors import LinkctlError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}


class SecretUnavailable(LinkctlError):
    """A receiver's password or signing secret could not be read."""


def parse_duration(value: Any) -> Any:
    """`90`, `90s`, `5m`, `1h`, `7d`, `500ms` -> seconds; anything else is left to pydantic."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("expected a duration such as 30s, 5m, 1h, 7d (or seconds as a number)")
        return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


def _http_url(value: Any) -> Any:
    if isinstance(value, str) and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL, e.g. http://127.0.0.1:9093")
    return value


HttpUrl = Annotated[str, BeforeValidator(_http_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SecretSource(_Strict):
    """Where a secret comes from: exactly one of a file or an environment variable."""

    file: Path | None = None
    env: str | None = None

    def read(self, what: str) -> SecretStr | None:
        if self.file is not None:
            try:
                return SecretStr(self.file.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise SecretUnavailable(
                    f"{what}: cannot read {self.file}: {exc.strerror}: make it readable by the user linkctl runs as"
                ) from None
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise SecretUnavailable(f"{what}: environment variable {self.env} is not set")
            return SecretStr(value)
        return None


def _one_source(file: Path | None, env: str | None, name: str) -> SecretSource:
    if file is not None and env is not None:
        raise ValueError(f"give {name}_file or {name}_env, not both")
    return SecretSource(file=file, env=env)


class SmtpReceiver(_Strict):
    type: Literal["smtp"]
    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465); excludes starttls
    username: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    ca_file: Path | None = None  # to trust a private CA
    sender: str = Field(alias="from", min_length=3)
    to: list[str] = Field(min_length=1)
    timeout: Seconds = 10.0

    @model_validator(mode="after")
    def _check(self) -> SmtpReceiver:
        _one_source(self.password_file, self.password_env, "password")
        if self.ssl and self.starttls:
            raise ValueError("ssl (implicit TLS) and starttls exclude each other; set one false")
        if (self.password_file or self.password_env) and not self.username:
            raise ValueError("a password needs a username")
        return self

    def password(self) -> SecretStr | None:
        source = _one_source(self.password_file, self.password_env, "password")
        return source.read(f"alerts receiver {self.name!r} password")


class WebhookReceiver(_Strict):
    type: Literal["webhook"]
    name: str = Field(min_length=1)
    url: HttpUrl
    secret_file: Path | None = None
    secret_env: str | None = None
    timeout: Seconds = 10.0

    @model_validator(mode="after")
    def _check(self) -> WebhookReceiver:
        source = _one_source(self.secret_file, self.secret_env, "secret")
        if source.file is None and source.env is None:
            raise ValueError("a webhook needs secret_file or secret_env to sign its requests")
        return self

    def secret(self) -> SecretStr:
        source = _one_source(self.secret_file, self.secret_env, "secret")
        found = source.read(f"alerts receiver {self.name!r} secret")
        assert found is not None  # the validator insists on a source
        return found


class AlertmanagerReceiver(_Strict):
    type: Literal["alertmanager"]
    name: str = Field(min_length=1)
    url: HttpUrl
    timeout: Seconds = 10.0


Receiver = Annotated[SmtpReceiver | WebhookReceiver | AlertmanagerReceiver, Field(discriminator="type")]


class RateLimit(_Strict):
    """At most `max_per_link` episode-start alerts per link and receiver per `window`."""

    max_per_link: int = Field(default=6, ge=1)
    window: Seconds = 3600.0


class Retry(_Strict):
    """Exponential back-off: initial, doubling, capped at max; dead after give_up_after."""

    initial: Seconds = 5.0
    max: Seconds = 600.0
    give_up_after: Seconds = 7 * 86_400.0

    @model_validator(mode="after")
    def _check(self) -> Retry:
        if self.max < self.initial:
            raise ValueError("retry.max must be at least retry.initial")
        return self


_HOLD_FIX = (
    "expected a duration above 0 such as 60s, 5m (how long a link must stay down); "
    "to turn the link-down alert off, set link_down: {enabled: false}"
)


def _hold(value: Any) -> Any:
    """`for:` of link_down: a duration above 0; 0, null, off and the like are refused with
    the one spelling that turns the alert off, rather than read as "at once" or "never"."""
    if value is None or isinstance(value, bool):
        raise ValueError(_HOLD_FIX)
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise ValueError(_HOLD_FIX) from None
    if not isinstance(seconds, float) or seconds <= 0:
        raise ValueError(_HOLD_FIX)
    return seconds


class LinkDown(_Strict):
    """The link-down alert: a link whose admin state is up, without carrier for `for` (as a
    Prometheus rule's `for:`), fires; resolved when its carrier is back."""

    # `for` only: the attribute's own name is no second spelling of it.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    enabled: bool = True
    hold: Annotated[float, BeforeValidator(_hold)] = Field(default=60.0, alias="for")

    @property
    def seconds(self) -> float | None:
        """The hold time, None when the alert is off."""
        return self.hold if self.enabled else None


class AlertsConfig(_Strict):
    host: str = Field(default_factory=socket.gethostname, min_length=1)
    severity: str = "warning"
    rate_limit: RateLimit = RateLimit()
    retry: Retry = Retry()
    alertmanager_resend: Seconds = 60.0
    # An alert (start or end) of a link tied to others (a veth pair, a bridge and its ports) waits this
    # long for the alerts of the others, then one notification names them all (Alertmanager's
    # group_wait).
    group_wait: Seconds = 10.0
    link_down: LinkDown = LinkDown()
    receivers: list[Receiver] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsConfig:
        names = [r.name for r in self.receivers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"receiver names must be unique; repeated: {', '.join(dupes)}")
        return self
