"""`--netns NS`: a name `ip netns` can have, refused as a usage error before anything is read.

The name is a file under /run/netns: `try -n ..` and `apply -n ..` opened /run/netns/.. (a
directory) half-way through the change and died of an internal error, leaving a journal that
`recover` could not roll back either (every later change refused); pyroute2 takes a name with a
'/' for a path from the current directory: `apply -n x/y` mounted the namespace on ./x/y. The
model checks the names a file gives (model/spec.py check_netns); this is the same rule for the
option, without loading the model (the plain `apply FILE -n NS` path, cli/entry.py, leaves any
doubtful name to typer and this check).
"""

from __future__ import annotations

NETNS_MAX = 255  # bytes: a file name under /run/netns (model/spec.py NETNS_MAX)


def problem(value: str) -> str | None:
    """What is wrong with `value` as an `ip netns` name, or None."""
    if "/" in value or "\0" in value or value in (".", ".."):
        return f"{value!r}: an `ip netns` name: no '/', not '.' or '..'; nothing was read or changed"
    size = len(value.encode(errors="surrogateescape"))
    if size > NETNS_MAX:
        return (
            f"{value[:40]!r}... ({size} bytes): an `ip netns` name has at most {NETNS_MAX} bytes "
            "(it is a file in /run/netns); nothing was read or changed"
        )
    return None


def checked(value: str | None) -> str | None:
    """A typer callback: the name, or a usage error naming it and the rule. '' is left to the command."""
    if value and (why := problem(value)):
        import typer

        raise typer.BadParameter(why)
    return value
