"""`logs analyze /var/log/kern.log /var/log/syslog`: Debian's rsyslog writes each kernel line to
both files. The two sets are read one after the other, each in its own order: every link-down is
counted twice (4 downs, 4.0/h where each file says 2.0/h), the second file's first uptime is lower
than the first file's last (boots: 2, a reboot that never happened), and the down periods of the
second copy are listed again. Before 'a down stamped before the down before it' was fixed, the two
together were FLAPPING, 'a down burst of 2 link-downs within -3600 s'.

Run: .venv/bin/python tests/logs/repro/kern_log_and_syslog_together.py
Prints the report of each file alone and of the two together."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

LINES = (
    "Mar 30 06:00:00 aurora kernel: [100.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 06:00:05 aurora kernel: [105.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
    "Mar 30 07:00:00 aurora kernel: [3700.000000] e1000e: eth0 NIC Link is Down\n"
    "Mar 30 07:00:09 aurora kernel: [3709.000000] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
)
SYSLOG_ONLY = "Mar 30 06:30:00 aurora sshd[812]: Accepted publickey for root\n"


def main() -> int:
    linkctl = str(Path(sys.executable).with_name("linkctl"))
    with tempfile.TemporaryDirectory() as tmp:
        kern, syslog = Path(tmp, "kern.log"), Path(tmp, "syslog")
        kern.write_text(LINES)
        syslog.write_text(LINES + SYSLOG_ONLY)
        for files in ([kern], [syslog], [kern, syslog]):
            done = subprocess.run([linkctl, "logs", "analyze", *map(str, files)], capture_output=True, text=True)
            print(f"$ linkctl logs analyze {' '.join(p.name for p in files)}")
            print(done.stdout + done.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
