"""Syslog tags: what says, after a stamp, whose line it is (the kernel's `kernel:`, a facility
and severity, pstore's replay, a shipper's level before a kernel line), for capture.py."""

from __future__ import annotations

import re

from linkctl.logs.capture_paste import MASKED_HOST

SEVERITY = r"(?:[a-z]{2,8}\.)?(?i:emerg|alert|crit|critical|err|error|warn|warning|notice|info|debug)"
# "[HOST ][WORD ][SEVERITY ]kernel:": a relay may put one word of its own between the host and
# the tag (UniFi's firmware version); RFC 5424 puts PROCID, MSGID and structured data after
# the app name, each "-" when empty.
KERNEL_TAG = re.compile(
    rf"(?:(?P<host>[^\s\[\]]+|{MASKED_HOST}) )?(?:[^\s\[\]:]+ )??(?:(?P<sev>{SEVERITY}) )?kernel(?:\[\d+\])?"
    r"(?::| (?:-|\d+) \S+ (?:-|\[[^\]]*\]))\s?(?P<msg>.*)"
)
SEVERITY_WORD = re.compile(SEVERITY)
# pstore/ramoops replays the last boot's kernel log through syslog, each record as dmesg -r
# printed it; only the uptime bracket tells a replayed kernel line from pstore's own words.
PSTORE = re.compile(r"(?:(?P<host>[^\s\[\]]+) )?pstore: (?:<\d{1,3}>)?(?P<msg>\[\s*\d{1,12}\.\d{1,9}\].*)")
# "kern.info kernel: ..." is logread or a syslog relay with the stamp cut off; the facility
# says whose line it is ("daemon.notice netifd: ..." is not the kernel's).
_FACILITIES = r"kern|user|mail|daemon|auth|authpriv|syslog|lpr|news|uucp|cron|ftp|local[0-7]"
_SEVERITIES = r"emerg|alert|crit|err|warn|warning|notice|info|debug"
FACILITY = re.compile(rf"(?:{_FACILITIES})\.(?:{_SEVERITIES}) (?P<rest>.*)")
# "[HOST ]kern.info: MESSAGE": a relay's template with the facility and severity as the tag
# (syslog-ng's "$FACILITY.$PRIORITY: $MSG"); the facility says whether it is the kernel's.
FACILITY_TAG = re.compile(rf"(?:(?P<host>[^\s\[\]:]+) )?(?P<fac>{_FACILITIES})\.(?:{_SEVERITIES}): (?P<msg>.*)")
# "CRIT kernel: ...": a relay that kept the severity and dropped the stamp.
BARE_SEVERITY = re.compile(rf"(?:{SEVERITY}) kernel(?:\[\d+\])?:")
# A shipper's level before what it shipped ("INFO - INFO - [ 6160.176012] ..."); taken off
# only when a kernel line's stamp follows, so that an application's own "INFO - " lines
# are not read as bare kernel messages.
LEVEL = r"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRIT|CRITICAL)"
SHIPPER = re.compile(
    rf"(?:(?:{LEVEL} -|\[{LEVEL}\]|{LEVEL}:?) )+"
    r"(?=<\d{1,3}>|\[\s*\d{1,12}\.\d{1,9}\]|\d{4}-\d\d-\d\d|[A-Z][a-z]{2} [ \d]\d )"
)
