"""What pasting does to a log line before anyone reads it: the damage a web page, a mail client,
a chat or a CI log leaves around and inside a kernel line, and how capture.py gets past it.

Inside the line: non-breaking and zero-width spaces (a rendered page), HTML entities and inline
tags ("&gt; ", "<code>", "<br>"), markdown's backticks and bold, and at the end what a table or a
shell left (" |", a continuation's "\\"). Before the line: gutters of every shape (a highlighter's
line numbers, a diff's "+"/"-", a prompt's "$ "/"# ", a bullet, a table's "|"), a chat's or a CI
runner's own stamp ("[10:00:01] <nick> ", GitHub Actions' "2024-01-01T10:00:00.1234567Z ",
Jenkins' "[Pipeline] "), a shell prompt the console printed over, a tool's own stamp, stamps or names the writer
masked ("[xxxxx.xxxxxx]", "[...]", "<redacted> kernel: ") or a screenshot's OCR damaged. A
gutter is taken off only where a capture format follows it (see `paste_prefixes`), any other text
only where a device's prefix does and the text is no sentence (`after_text`), so that a prompt or a
bullet before prose or a command never makes a kernel line of it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from linkctl.logs.programs import DAEMON_NAMES

# Spaces a web page renders and a copy keeps: NBSP, the typographic spaces, the ideographic one.
_SPACES = re.compile("[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,5}|#[xX][0-9a-fA-F]{1,4});")
# Inline markup a page's text keeps when its HTML was copied rather than its rendering; never a
# word a kernel or a daemon writes in angle brackets ("<info>", "<NO-CARRIER,UP>").
_TAG = re.compile(r"</?(?:code|pre|br|p|tt|kbd|samp|span|div|td|li|b|i|em|strong|blockquote)(?:\s[^<>]{0,80})?\s*/?>")
# What a table, a shell or markdown left after the line: " |", "\\", closing backticks, "**". A run of
# backslashes or backticks is taken whole, as one split every way between the repetitions was tried
# again and again (30 backslashes before a letter took minutes); looked for in the line's last
# characters only, as a search tried from each space of a long run (20,000 spaces took 8 s).
_TRAILER = re.compile(r"(?:\s*(?:\\+(?!\\)|[|\u2502\u2503]|`+(?!`)|\*\*))+$")
_TRAILER_REACH = 256
# Markdown's opening backticks or bold before the line.
_OPENER = re.compile(r"(?:`{1,3}|\*\*)(?=\S)")
# An elided device prefix in the message: "... eth0: NIC Link is Down", "[...] eth0: ...".
_ELISION = re.compile(r"(?:\.{3}|\u2026|\[\s*(?:\.{3}|\u2026)\s*\])\s*")

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
# A stamp its writer masked before pasting: "[xxxxxx]", "[xxxxx.xxxxxx]", "[ ***.*** ]", "[...]",
# "[12345.xxxxxx]", "[Mon Mar 30 xx:xx:xx 2024]", "[redacted]". A bracket of digits and masks
# only, with a mask in it; a placeholder word ("[timestamp]") is documentation, not a mask.
MASKED_STAMP = re.compile(
    r"\[(?=[^\]]{0,40}(?:[xX]{2}|[*?#]{2}|[*?#]\.|\u2026|\.\.\.))"
    rf"(?:[\dxX*?#.:\u2026\s\-]|(?:{_DAYS}|{_MONTHS})\b){{1,40}}\]\s?"
    r"|\[\s*(?:redacted|REDACTED|snip|SNIP|removed|hidden)\s*\]\s?"
    # A screenshot turned to text (OCR) reads the closing bracket as "1", "l", "|" or ")": printk's six
    # digits and one more. The digits are no longer to be trusted: no uptime.
    r"|\[\s*\d{1,12}\.\d{6}[1lIJ|)}](?=\s)\s?"
)
# A host's name the writer masked or bracketed: "<redacted>", "[hostname]", "<host>", "***".
MASKED_HOST = r"(?:<[\w.\- ]{1,32}>|\[[A-Za-z][\w.\- ]{0,31}\]|\*{2,})"

# Prefixes a paste puts before a capture format, each taken off only when one follows: a CI
# system's own markers, a chat's or a CI runner's stamp (and a chat's nick), a web UI's date
# ("2024/03/30 06:32:45 ", "30.03.2024 06:32:45 "), a gutter (line numbers with or without a
# rule, "|", a diff's "+"/"-", a prompt's "$"/"#", a bullet, a mail quote).
_PASTE_PREFIX = re.compile(
    r"(?:"
    r"\[Pipeline\]\s*|##\[\w+\]\s*"
    r"|\[?\d{1,2}:\d\d(?::\d\d(?:[.,]\d{1,9})?)?(?:\s?[AaPp][Mm])?\]?\s+"
    r"(?:<[@+%~&]?[^\s<>]{1,32}>\s+|[\w.\-]{1,32}:\s+)?"
    r"|\[?(?:\d{4}[-/.]\d\d[-/.]\d\d|\d\d[-/.]\d\d[-/.]\d{2,4})[T ,]\s?\d\d:\d\d(?::\d\d(?:[.,]\d{1,9})?)?"
    r"(?:Z|\s?[+-]\d\d:?\d\d)?\]?\s+"
    r"|[\s\d|\u2502\u2503\u00a6>+\-$#*\u2022\u00b7:.]{1,12}?(?<=[\s|\u2502\u2503\u00a6>+\-$#*\u2022\u00b7:])"
    r")"
)


# Where a kernel message can start after text no capture format explains: netdev_printk's or
# dev_printk's prefix ("DRIVER BUS[ IFNAME]: ", a device address with a digit that is not a bare
# number: "Port 0: " is testpmd's), a pr_fmt module before a netdev's name ("r8168: eth2: ",
# "e1000e: eth0 NIC "), or the transmit watchdog. Each at a word's start.
_DEVICE_START = re.compile(
    r"(?:(?<=\s)|^)(?:"
    r"(?!kernel )[A-Za-z][\w.\-]* (?=[\w.:\-]*\d)(?!\d+: )[\w.:\-]+(?: [^\s:()\[\]/]{1,32})?: \S"
    r"|(?!kernel:)[A-Za-z][\w.\-]*: [^\s:()\[\]/]{1,15}(?:: | NIC )"
    r"|NETDEV WATCHDOG: "
    r")"
)
# A line that starts as a message does ("realtek-smi switch lan0: ", "eth0: HINIC_Intf: ") is one.
_MESSAGE_START = re.compile(r"[A-Za-z][\w.\-]*(?: \w[\w.:\-]*){0,2}: \S")
# What makes the text before it a person's words rather than a tool's: a quotation mark, a program's
# tag ("dhcpcd[123]: "), two lower-case words in a row ("now I am connect to", "press Enter to
# activate"), a word right before the message ("the NETDEV WATCHDOG: eth0 line", "see r8169 ..."),
# a placeholder.
# Quotation marks, straight and typographic: text holding one quotes what follows.
QUOTES = frozenset("\"'`\u2018\u2019\u201c\u201d")
# From a name's first character only: searched from every character of a long run, the run was
# read again each time (5,000 digits: 0.14 s, a 64 KiB line 25 s).
_PROGRAM_TAG = re.compile(r"(?<![\w.\-/])[\w.\-/]+\[\d+\]:")
_WORD_PAIR = re.compile(r"(?:^|\s)[a-z]{2,}[,;.!?]?\s+[a-z]{2,}[,;.!?]?(?=\s|$)")
_LAST_WORD = re.compile(r"(?:^|\s)(?=[A-Za-z]*[a-z])[A-Za-z]{2,}\s*$")
# A placeholder of documentation ("[timestamp] e1000e: eth0 NIC Link is Down"), or a chat's "<nick>".
_PLACEHOLDER = re.compile(r"[\[<][a-z][a-z _\-]{2,31}[\]>]")
# Text ending in "WORD: " is a message's own prefix ("eth0: HINIC_Intf: "), unless it is the kernel's tag.
_OWN_PREFIX = re.compile(r"\w(?<!kernel):\s*$")
# A patch's subject, an abbreviation that opens an example, a daemon's facility: a person's or a
# program's text before what only looks like a kernel line.
_NOT_KERNEL_BEFORE = re.compile(r"\[PATCH|(?:e\.g\.|i\.e\.|vs\.)\s*$|\bdaemon\.\w+")
# Userspace programs that print "NAME IFNAME: " themselves.
_DAEMON = re.compile(rf"(?:{DAEMON_NAMES})\b")
# A root shell's bare prompt, over which the console printed a message ("# ftgmac100: NCSI interface down").
_ROOT_PROMPT = re.compile(r"# (?=\S)")
# ...never a command typed at it ("# ncsi-netlink --set-interface eth0: NCSI interface down").
_COMMAND = re.compile(r"[\w.\-/]+(?: +[\w.\-/]+)* +--?\w")
# The kernel's uptime right before the message ("| [   12.500000] r8169 ..."): kept with it.
_UPTIME_BEFORE = re.compile(r"\[\s*\d{1,12}\.\d{1,9}\]\s*$")


def after_text(line: str) -> str | None:
    """The kernel line after a prompt, a gutter or a stamp of a tool no capture format knows ("# macb
    e000b000.ethernet eth0: link down", "1 | e1000e ... eno1: Detected Hardware Unit Hang"), from its
    uptime if one is right before it, or None; never out of a sentence, a quotation or another
    program's line."""
    if _MESSAGE_START.match(line):
        return None
    prompt = _ROOT_PROMPT.match(line)
    if prompt is not None and not _COMMAND.match(line, prompt.end()):
        return line[prompt.end() :]  # read as a message: the rules decide
    m = _DEVICE_START.search(line)
    if m is None or m.start() == 0:
        return None
    before = line[: m.start()]
    if QUOTES.intersection(before) or _PROGRAM_TAG.search(before):
        return None
    if _WORD_PAIR.search(before) or _LAST_WORD.search(before) or _PLACEHOLDER.search(before):
        return None
    if _OWN_PREFIX.search(before) or _NOT_KERNEL_BEFORE.search(before) or _DAEMON.match(line, m.start()):
        return None
    uptime = _UPTIME_BEFORE.search(before)
    return line[uptime.start() if uptime else m.start() :]


# A diff's or a list's marker glued to a netdev's prefix: "-eth0: link up, speed 100 Mb/s".
_GLUED_MARKER = re.compile(r"[-+](?=[A-Za-z][\w.\-]{0,14}\d[\w.\-]*: )")


def tidy(line: str) -> str:
    """The line without the damage a page, a mail client or markdown did inside it."""
    if not line.isascii():
        line = _ZERO_WIDTH.sub("", _SPACES.sub(" ", line))
    elif "\t" in line:
        line = line.replace("\t", " ")
    if "&" in line and _ENTITY.search(line):
        line = _SPACES.sub(" ", html.unescape(line))
    if "<" in line and _TAG.search(line):
        line = _TAG.sub(" ", line)
    m = _TRAILER.search(line, max(0, len(line) - _TRAILER_REACH))
    if m and m.start() > 0:
        line = line[: m.start()]
    m = _OPENER.match(line) or _GLUED_MARKER.match(line)
    if m:
        line = line[m.end() :]
    return line.strip()


# A link's name its reporter typed in quotes before the message, as one quotes a name in a sentence:
# '"eth0": 21140 transmit timed out, ...', "'eth0': ...", "“eth0”: ...". The kernel prints "%s: "
# bare, so a quoted name is the typist's; only a netdev's (a digit in it, shorter than IFNAMSIZ)
# with a message after it, the same mark on both sides.
_QUOTED_NAME = re.compile(
    "(?P<open>[\"'`\u2018\u201c])(?P<name>[A-Za-z][\\w.\\-@]{0,14})(?P<close>[\"'`\u2019\u201d]):(?= \\S)"
)
_QUOTE_PAIRS = {'"': '"', "'": "'", "`": "`", "\u2018": "\u2019", "\u201c": "\u201d"}


def unquoted_name(message: str) -> str:
    """A message whose link's name the reporter put in quotes, with the name bare again."""
    m = _QUOTED_NAME.match(message)
    if m is None or _QUOTE_PAIRS[m["open"]] != m["close"] or not any(c.isdigit() for c in m["name"]):
        return message
    return m["name"] + message[m.end("close") :]


def elided(message: str) -> str:
    """A message whose device prefix the writer cut to "...": from its next word on."""
    if message[:1] in (".", "\u2026", "["):
        m = _ELISION.match(message)
        if m and m.end() < len(message):
            return message[m.end() :]
    return message


def paste_prefixes(line: str, depth: int = 3) -> Iterator[str]:
    """What follows each paste prefix at the head of the line, nearest first (at most `depth`
    prefixes deep): the caller reads each as a capture format and keeps the first that is one."""
    rest = line
    for _ in range(depth):
        m = _PASTE_PREFIX.match(rest)
        if m is None or m.end() == 0 or m.end() >= len(rest):
            return
        rest = rest[m.end() :].lstrip()
        yield rest
