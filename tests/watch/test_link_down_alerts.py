"""The link-down alert, end to end: `linkctl watch` run as the user runs it (a process of its
own) over throwaway namespaces, mailing a real SMTP server (aiosmtpd). A veth end whose peer is
set down loses its carrier while its own admin state stays up: that is a link down; the peer,
set down by hand, is not. The hold time is 1 s so that the tests wait on mail, never on a clock."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.servers import smtp_serving
from tests.watch.test_daemon import DEADLINE, add_pairs, ip, namespace, watching

pytestmark = pytest.mark.kernel


class Inbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.mails]

    def wait(self, count: int, what: str) -> list[str]:
        """Until `count` mails came (a guard, not a timing assert)."""
        end = time.monotonic() + DEADLINE
        while len(self.mails) < count:
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; mails: {self.subjects()}")
            time.sleep(0.2)
        return self.subjects()


@pytest.fixture
def inbox() -> Iterator[tuple[int, Inbox]]:
    handler = Inbox()
    with smtp_serving(handler) as port:
        yield port, handler


def _args(tmp_path: Path, ns: str, port: int, link_down: str = "{for: 1s}") -> list[str]:
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(
        "alerts:\n"
        "  host: test-host\n"
        "  group_wait: 1s\n"
        "  retry: {initial: 1s, max: 2s, give_up_after: 1h}\n"
        f"  link_down: {link_down}\n"
        "  receivers:\n"
        f"  - {{name: mail, type: smtp, host: 127.0.0.1, port: {port}, starttls: false,\n"
        "     from: linkctl@test-host, to: [noc@example.org]}\n"
    )
    return ["--netns", ns, "--store", f"sqlite://{tmp_path / 'events.db'}", "--listen", "", "--config", str(cfg)]


def _bridge(ns: str) -> None:
    """br0 with one port, pb, a veth whose peer pbp is set down to take the carrier off both."""
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    ip("-n", ns, "link", "add", "pb", "type", "veth", "peer", "name", "pbp")
    ip("-n", ns, "link", "set", "pb", "master", "br0")
    for name in ("br0", "pb", "pbp"):
        ip("-n", ns, "link", "set", name, "up")


def test_a_link_held_down_is_mailed_once_and_resolved_after_a_restart(tmp_path: Path, inbox: tuple[int, Inbox]) -> None:
    port, box = inbox
    with namespace() as ns:
        add_pairs(ns, ["dn"])
        args = _args(tmp_path, ns, port)
        with watching(args):  # ready: the baseline was read
            ip("-n", ns, "link", "set", "dnp", "down")  # dn: admin up, no carrier; dnp: set down by hand
            subjects = box.wait(1, "the link-down mail")
        assert len(subjects) == 1 and f"dn (netns {ns}) link down for" in subjects[0], subjects
        assert "dnp" not in subjects[0]  # set down by hand: not a fault
        body = box.mails[0].get_content()
        assert "no carrier since" in body and "admin state up" in body, body
        # A watcher restarted meanwhile neither mails it again nor forgets to resolve it.
        with watching(args):
            ip("-n", ns, "link", "set", "dnp", "up")
            subjects = box.wait(2, "the resolved mail")
        assert len(subjects) == 2, subjects
        assert f"dn (netns {ns}) link down resolved (carrier back) after" in subjects[1], subjects


def test_tied_links_down_are_one_mail_and_short_or_admin_downs_none(tmp_path: Path, inbox: tuple[int, Inbox]) -> None:
    port, box = inbox
    with namespace() as ns:
        add_pairs(ns, ["fa", "fb", "fc"])
        _bridge(ns)
        with watching(_args(tmp_path, ns, port)):
            batch = [
                "link set fap down",  # fa: down, and up again before the hold time
                "link set fap up",
                "link set fb down",  # fb and fbp: both set down by hand, no carrier lost
                "link set fbp down",
                "link set pbp down",  # pb, then br0 (its last port): tied, one cause
                "link set fcp down",  # fc: held down
            ]
            ip("-n", ns, "-batch", "-", stdin="\n".join(batch) + "\n")
            subjects = box.wait(2, "the bridge's and fc's mails")
            ip("-n", ns, "-batch", "-", stdin="link set fcp up\nlink set pbp up\n")
            subjects = box.wait(4, "the resolved mails")
        assert len(subjects) == 4, subjects
        together = [s for s in subjects if "br0, pb" in s]
        assert len(together) == 2, subjects  # firing and resolved: each one mail for the two links
        assert f"down together (bridge {ns}/br0)" in together[0], together
        assert f"no longer down (bridge {ns}/br0)" in together[1], together
        alone = [s for s in subjects if s not in together]
        assert len(alone) == 2 and f"fc (netns {ns}) link down for" in alone[0], alone
        assert f"fc (netns {ns}) link down resolved (carrier back) after" in alone[1], alone
        for name in ("fa ", "fb ", "fbp", "fap", "pbp"):
            assert not any(f" {name}" in s for s in subjects), (name, subjects)
