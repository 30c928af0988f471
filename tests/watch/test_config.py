from __future__ import annotations

from pathlib import Path

import pytest

from linkctl.alerts import AlertmanagerReceiver, SmtpReceiver, WebhookReceiver
from linkctl.errors import LinkctlError
from linkctl.watch.config import ConfigError, load_config, parse_config, parse_listen

FULL = """
store: postgresql://linkctl@db.example.org/linkctl
listen: "[::1]:9900"
netns: ["", blue]
iface: ["eth*", "en*"]
stats_interval: 30s
flap:
  rate_transitions: 8
  rate_window: 10m
  high: 40
  low: 20
  sample_interval: 30
alerts:
  host: web-01
  rate_limit: {max_per_link: 3, window: 2h}
  retry: {initial: 2s, max: 5m}
  receivers:
    - {name: mail, type: smtp, host: smtp.example.org, port: 465, ssl: true, starttls: false,
       username: linkctl, password_file: /etc/linkctl/smtp.pass,
       from: linkctl@example.org, to: [noc@example.org]}
    - {name: hook, type: webhook, url: "https://hooks.example.org/x", secret_env: HOOK_SECRET}
    - {name: am, type: alertmanager, url: "http://127.0.0.1:9093"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.listen_address() == ("::1", 9900)
    assert config.netns == ["", "blue"]
    assert config.stats_interval == 30.0
    flap = config.flap_config()
    assert (flap.rate_transitions, flap.rate_window, flap.high, flap.low) == (8, 600.0, 40, 20)
    assert config.alerts.rate_limit.window == 7200.0
    kinds = [type(r) for r in config.alerts.receivers]
    assert kinds == [SmtpReceiver, WebhookReceiver, AlertmanagerReceiver]
    mail = config.alerts.receivers[0]
    assert isinstance(mail, SmtpReceiver) and mail.sender == "linkctl@example.org"


def test_defaults() -> None:
    config = parse_config({})
    assert config.store == "sqlite:///var/lib/linkctl/events.db"
    assert config.listen_address() == ("127.0.0.1", 9717)
    flap = config.flap_config()
    assert (flap.rate_transitions, flap.rate_window, flap.high, flap.low) == (5, 300.0, 50.0, 25.0)
    assert config.alerts.receivers == []


def test_overrides_from_the_command_line(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), {"store": "sqlite:///tmp/x.db", "listen": None})
    assert config.store == "sqlite:///tmp/x.db"
    assert config.listen == "[::1]:9900"


def problems(data: dict[str, object]) -> list[tuple[str, object, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert isinstance(info.value, LinkctlError)
    return [(p.field, p.value, p.allowed) for p in info.value.problems]


def test_unknown_field_suggests_the_right_one() -> None:
    ((field, value, allowed),) = problems({"flap": {"hihg": 60}})
    assert (field, value) == ("flap.hihg", 60)
    assert "did you mean 'high'" in allowed


def test_receiver_field_typo_is_located() -> None:
    receiver = {
        "type": "smtp",
        "name": "m",
        "host": "h",
        "from": "a@b.c",
        "to": ["x@y.z"],
        "pasword_file": "/x",
    }
    ((field, _, allowed),) = problems({"alerts": {"receivers": [receiver]}})
    assert field == "alerts.receivers.0.pasword_file"
    assert "password_file" in allowed


def test_bad_values_name_field_value_and_fix() -> None:
    found = problems({"stats_interval": "5 minutes", "listen": "0.0.0.0"})
    by_field = {f: (v, a) for f, v, a in found}
    assert by_field["stats_interval"][0] == "5 minutes"
    assert "30s" in by_field["stats_interval"][1]
    assert "HOST:PORT" in by_field["listen"][1]


def test_thresholds_must_leave_room_for_hysteresis() -> None:
    ((field, value, allowed),) = problems({"flap": {"low": 60}})
    assert (field, value) == ("flap.low", 60.0)
    assert "below flap.high" in allowed


def test_webhook_needs_a_secret_and_an_http_url() -> None:
    found = problems({"alerts": {"receivers": [{"type": "webhook", "name": "w", "url": "ftp://x"}]}})
    text = " ".join(a for _, _, a in found)
    assert "http:// or https://" in text


def test_webhook_without_secret() -> None:
    found = problems({"alerts": {"receivers": [{"type": "webhook", "name": "w", "url": "http://x"}]}})
    assert any("secret_file or secret_env" in a for _, _, a in found)


def test_secret_from_both_sources_is_refused() -> None:
    receiver = {"type": "webhook", "name": "w", "url": "http://x", "secret_env": "A", "secret_file": "/b"}
    found = problems({"alerts": {"receivers": [receiver]}})
    assert any("not both" in a for _, _, a in found)


def test_receiver_names_are_unique() -> None:
    am = {"type": "alertmanager", "name": "am", "url": "http://127.0.0.1:9093"}
    found = problems({"alerts": {"receivers": [am, am]}})
    assert any("repeated: am" in a for _, _, a in found)


def test_yaml_errors_say_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "flap: [unclosed\n"))
    (problem,) = info.value.problems
    assert problem.field == "yaml" and "line" in str(problem.value)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="problem"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read" in info.value.problems[0].allowed


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "store: !!python/object/apply:os.system ['true']\n"))


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:9717") == ("127.0.0.1", 9717)
    assert parse_listen("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen("127.0.0.1:99999")
    with pytest.raises(ValueError, match="IP address"):
        parse_listen("example.org:80")


def test_the_shipped_example_loads_and_says_the_defaults_truly() -> None:
    # deploy/watch.yaml is what an operator copies: it must load, and the values it calls defaults
    # must be the defaults.
    example = load_config(Path(__file__).resolve().parents[2] / "deploy" / "watch.yaml")
    defaults = parse_config({})
    for key in ("store", "listen", "netns", "iface", "stats_interval", "kernel_log", "flap"):
        assert getattr(example, key) == getattr(defaults, key), key
    assert example.alerts.rate_limit == defaults.alerts.rate_limit
    assert example.alerts.retry == defaults.alerts.retry
    assert example.alerts.link_down == defaults.alerts.link_down
    assert [type(r) for r in example.alerts.receivers] == [SmtpReceiver, WebhookReceiver, AlertmanagerReceiver]


def test_host_names_the_rows_and_the_alerts() -> None:
    config = parse_config({"host": "web-01"})
    assert (config.host_id().name, config.host_id().chosen) == ("web-01", True)
    assert config.alerts.host == "web-01"
    # Alerts given a name of their own keep it; the rows take it when no host: is given.
    own = parse_config({"host": "web-01", "alerts": {"host": "edge"}})
    assert (own.host_id().name, own.alerts.host) == ("web-01", "edge")
    assert parse_config({"alerts": {"host": "edge"}}).host_id().name == "edge"
    default = parse_config({})
    assert default.host is None and default.host_id().chosen is False


@pytest.mark.parametrize("bad", ["", "web 01", "web-*", "a/b"])
def test_a_host_name_that_could_not_be_selected_alone_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="host"):
        parse_config({"host": bad})
