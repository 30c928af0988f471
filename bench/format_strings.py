"""The survey's machine pass: every printk-family format string in a kernel tree's drivers that
says "link" or "carrier", rendered with sample values and put to the recognisers under four
prefixes (a device and a netdev, a driver and a netdev, a netdev alone, a device alone); the
ones no reading takes are printed, one a line, for a person to read (corpus/driver_survey.md
says what session 16 found in Linux 6.12's and 5.10's drivers/net).

    .venv/bin/python bench/format_strings.py /usr/src/linux-source-6.12/drivers/net > not_taken.tsv
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

from linkctl.logs.lines import parse_line

_CALL = re.compile(
    r"\b(?:netdev|netif|dev|pr|e|e_dev|en|mlx[45]|mlx5_core|bnxt|wx|ionic|hw)_"
    r"(?:info|warn|err|notice|crit|alert|emerg|cont|printk)(?:_ratelimited|_once)?\s*\(|\b(?:printk|DP_NOTICE|DP_INFO)\s*\("
)
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_LINK_WORDS = re.compile(r"\blink\b|carrier|link[_:.]|linkup|linkdown", re.IGNORECASE)
_CONVERSION = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[diouxXscp]")
_SAMPLES = {"d": "1000", "i": "1000", "u": "1000", "o": "1", "x": "1f", "X": "1F", "s": "eth0", "c": "x", "p": "eth0"}


def format_strings(tree: Path) -> Iterator[tuple[str, str]]:
    """(file, format string) for every call whose first string literals say a link word."""
    for path in sorted(tree.rglob("*.c")):
        source = path.read_text(errors="replace")
        for call in _CALL.finditer(source):
            end = source.find(";", call.end())
            literals = _LITERAL.findall(source, call.end(), end if end >= 0 else len(source))
            text = "".join(literals[:3])
            if literals and _LINK_WORDS.search(text):
                yield str(path.relative_to(tree)), text


def render(text: str) -> str:
    text = text.replace("\\n", "").replace('\\"', '"').replace("\\t", " ")
    return _CONVERSION.sub(lambda m: _SAMPLES[m.group(0)[-1]], text)


def taken(driver: str, message: str) -> bool:
    forms = (f"{driver} 0000:01:00.0 eth0: {message}", f"{driver}: eth0: {message}", f"eth0: {message}")
    return any(parse_line(form) is not None for form in (*forms, f"{driver} 0000:01:00.0: {message}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path, help="a kernel tree's drivers directory, e.g. linux/drivers/net")
    tree = parser.parse_args().tree
    seen: set[str] = set()
    for where, text in format_strings(tree):
        if text not in seen and not taken(Path(where).parent.name, render(text)):
            seen.add(text)
            print(f"{where}\t{text}")


if __name__ == "__main__":
    main()
