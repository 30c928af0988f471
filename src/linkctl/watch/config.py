"""watch.yaml: what `linkctl watch` watches, where it keeps history, whom it alerts.

    store: sqlite:///var/lib/linkctl/events.db     # or postgresql://user@host/db
    host: web-01                                    # the name rows and alerts carry; default: hostname
    listen: 127.0.0.1:9717                          # Prometheus metrics; "" = off
    netns: [""]                                     # "" is linkctl's own namespace
    iface: ["eth*", "en*"]                          # globs; default: all
    stats_interval: 60s                             # counter snapshots
    kernel_log: null                                # a file to follow if /dev/kmsg is unreadable
    flap:
      rate_transitions: 5      # flapping at more than 5 transitions ...
      rate_window: 300s        # ... within 300 s
      rate_clear_transitions: 0
      nagios: true             # Nagios percent state change as well
      high: 50                 # percent: flapping at >= high ...
      low: 25                  # ... until <= low
      sample_interval: 15s
    alerts: {...}              # see linkctl.alerts.config

`load_config` reads it with yaml.safe_load and raises :class:`ConfigError`
naming each bad field, the value found and what would be accepted.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from linkctl.alerts.config import AlertmanagerReceiver, AlertsConfig, Seconds, SmtpReceiver, WebhookReceiver
from linkctl.domain.events import NetnsName
from linkctl.errors import LinkctlError, Problem
from linkctl.store.hosts import HostId, local_host
from linkctl.watch.flap import FlapConfig

DEFAULT_CONFIG = Path("/etc/linkctl/watch.yaml")
DEFAULT_LISTEN = "127.0.0.1:9717"


@dataclass
class ConfigError(LinkctlError):
    """watch.yaml (or a command-line override) is not usable."""

    source: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s):"]
        lines += [f"  - {p.brief()}" for p in self.problems]  # never a secret's value, never a whole bomb
        return "\n".join(lines)


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:9717`, `[::1]:9717` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT such as 127.0.0.1:9717 or [::1]:9717")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ValueError("the host must be an IP address (or localhost)") from None
    return host, int(port)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FlapSettings(_Strict):
    rate_transitions: int = Field(default=5, ge=1)
    rate_window: Seconds = 300.0
    rate_clear_transitions: int = Field(default=0, ge=0)
    nagios: bool = True
    high: float = Field(default=50.0, gt=0, le=100)
    low: float = Field(default=25.0, ge=0, lt=100)

    sample_interval: Seconds = 15.0

    def to_config(self) -> FlapConfig:
        return FlapConfig(
            rate_transitions=self.rate_transitions,
            rate_window=self.rate_window,
            rate_clear_transitions=self.rate_clear_transitions,
            nagios_enabled=self.nagios,
            high=self.high,
            low=self.low,
            sample_interval=self.sample_interval,
        )


class WatchConfig(_Strict):
    store: str = "sqlite:///var/lib/linkctl/events.db"
    host: str | None = None
    listen: str = DEFAULT_LISTEN
    netns: list[str] = Field(default_factory=lambda: [""])
    iface: list[str] = Field(default_factory=lambda: ["*"])
    stats_interval: Seconds = 60.0
    kernel_log: Path | None = None
    flap: FlapSettings = FlapSettings()
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @property
    def namespaces(self) -> list[NetnsName]:
        """`netns`, once each, with watch.yaml's and --netns's "" for the host read as None."""
        return [name or None for name in dict.fromkeys(self.netns)]

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://", "/")):
            raise ValueError("use sqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        # The name is a key column and a glob target for `history --host`: no blanks, no
        # glob characters, or a host could not be selected alone.
        if value is not None and (not value or any(ch.isspace() or ch in "*?[]/" for ch in value)):
            raise ValueError("a host name without spaces, '/' or glob characters, e.g. web-01")
        return value

    def host_id(self) -> HostId:
        """Who this watcher writes as: `host:` (or --host), else an explicit alerts.host,
        else the hostname; the machine-id beside it either way."""
        if self.host is not None:
            return local_host(self.host)
        if "host" in self.alerts.model_fields_set:
            return local_host(self.alerts.host)
        return local_host()

    @model_validator(mode="before")
    @classmethod
    def _alerts_host(cls, data: Any) -> Any:
        # Alerts name the host the rows name, unless watch.yaml gave alerts their own.
        if not isinstance(data, dict) or not data.get("host"):
            return data
        alerts = data.get("alerts") or {}
        if isinstance(alerts, dict) and "host" not in alerts:
            return {**data, "alerts": {**alerts, "host": data["host"]}}
        return data

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        if value:
            parse_listen(value)
        return value

    @field_validator("iface")
    @classmethod
    def _iface(cls, value: list[str]) -> list[str]:
        if not value or any(not g for g in value):
            raise ValueError("give at least one non-empty glob, e.g. ['*'] or ['eth*']")
        return value

    def flap_config(self) -> FlapConfig:
        return self.flap.to_config()

    def listen_address(self) -> tuple[str, int] | None:
        return parse_listen(self.listen) if self.listen else None


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> WatchConfig:
    """Read watch.yaml (a missing default file means defaults), then apply overrides."""
    data: dict[str, Any] = {}
    source = str(path or DEFAULT_CONFIG)
    if path is not None or DEFAULT_CONFIG.exists():
        data = _read_yaml(path or DEFAULT_CONFIG)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return parse_config(data, source)


def parse_config(data: dict[str, Any], source: str = "watch.yaml") -> WatchConfig:
    try:
        config = WatchConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(source, err) for err in exc.errors()]) from None
    flap = config.flap
    if flap.low >= flap.high:
        hint = "flap.low must be below flap.high (hysteresis), e.g. low: 25, high: 50"
        raise ConfigError(source, [Problem(source, "flap.low", flap.low, hint)])
    if flap.rate_clear_transitions > flap.rate_transitions:
        hint = f"at most flap.rate_transitions ({flap.rate_transitions})"
        problem = Problem(source, "flap.rate_clear_transitions", flap.rate_clear_transitions, hint)
        raise ConfigError(source, [problem])
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem(str(path), "file", str(path), f"cannot read: {exc.strerror}")
        raise ConfigError(str(path), [problem]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}" if where else "?"
        problem = Problem(str(path), "yaml", at, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        raise ConfigError(str(path), [problem]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problem = Problem(str(path), "top level", type(data).__name__, "expected a mapping")
        raise ConfigError(str(path), [problem])
    return data


def _problem(source: str, err: Any) -> Problem:
    loc = [str(part) for part in err["loc"]]
    # A discriminated union adds the variant's tag to the path: drop it.
    loc = [p for p in loc if p not in ("smtp", "webhook", "alertmanager")]
    dotted = ".".join(loc) or "(top)"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field" + _suggest(loc)
    return Problem(source, dotted, err.get("input"), message)


def _suggest(loc: list[str]) -> str:
    known = _known_fields(loc[:-1])
    close = difflib.get_close_matches(loc[-1], known, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {', '.join(sorted(known))}" if known else ""


def _known_fields(parents: list[str]) -> list[str]:
    model: type[BaseModel] = WatchConfig
    for part in parents:
        if part.isdigit():
            continue
        info = model.model_fields.get(part)
        inner = getattr(info, "annotation", None) if info else None
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
        else:
            return _receiver_fields() if part == "receivers" else []
    names = list(model.model_fields)
    names += [f.alias for f in model.model_fields.values() if f.alias]
    return names


def _receiver_fields() -> list[str]:
    names: set[str] = set()
    for model in (SmtpReceiver, WebhookReceiver, AlertmanagerReceiver):
        names |= set(model.model_fields)
        names |= {f.alias for f in model.model_fields.values() if f.alias}
    return sorted(names)
