"""The receipt fast path: `linkctl apply FILE` of a file already applied, on links nobody changed since,
answered at the speed of the kernel's dump, before the CLI library, PyYAML and pydantic are loaded
(on 2000 links: the dump's 0.03 s against the full path's 0.5 s).

The whole path, in the order it runs:

1. cli/entry.py: the plain form `apply|plan FILE [--netns NS]` (never `--strict`: a receipt says
   the links are as the file says, not that the file holds nothing linkctl leaves alone) calls
   `reply` below first thing, after the signal handlers (linkctl/interrupts.py).
2. `answer`: the file's bytes (model/source.py: a regular file, bounded), its receipt
   (fastpath/receipt.py: named by the bytes, the --netns and linkctl's code, kept in the runtime
   directory of engine/runtime.py); then no change held or pending (engine/lockfile.py: `apply`
   takes the change lock without waiting and holds it to the end, as the full `apply` does; and
   no change journal: no `try` holding its change, none cut off by kill -9); then the digest the
   receipt holds, taken again now (kernel/fastpath.py: one link dump per namespace on
   kernel/linkdump.py's RouteSocket, entered through kernel/nsenter.py, fingerprinted by linkdump's
   Fingerprinter; layer 3 read by kernel/l3.py when the file declares some). Equal: the planner
   would see the very links it saw then and find nothing to do, and the command says what the full
   path would say.
3. Anything else (no receipt, a different file, the lock held, a journal there, any link changed,
   added or removed, a namespace gone, any error at all) returns None, and the full command decides
   as always; it leaves a new receipt when it finds or makes the links as declared (receipt.may_keep
   and receipt.keep, called by cli/engine_cmds.py; kernel/state.py fingerprints the very dumps it
   decoded), never while a change journal is there.

Everything the path loads is the standard library or one of the modules named above, each of
which imports nothing more than that: bench/apply_veth.py measures it against `ip -j -d link show`.
"""

from __future__ import annotations

import os

# What the full commands print when nothing differs (cli/engine_cmds.py, plan/text.py).
_SAID = {
    "apply": "no changes: {n} interface(s) already as declared; nothing was sent to the kernel",
    "plan": "no changes: {n} interface(s) already as declared",
}


def reply(command: str, path: str, netns: str | None) -> None:
    """Print the no-op answer and end the process when a receipt still holds; else return."""
    try:
        said = answer(command, path, netns)
    except Exception:  # any doubt goes to the full command, which reports properly
        return
    if said is not None:
        os._exit(_deliver(said))  # nothing to clean up: skip the interpreter's teardown (2 ms)


def _deliver(said: str) -> int:
    """Write the answer; the exit code. Its failure is said in one line: the answer's own words, true
    (the digest was just taken again and nothing was sent), so a reader of stderr still knows.

    Straight to the descriptor: sys.stdout is None when it was closed (`>&-`), and nothing was
    printed before to flush first."""
    out = (said + "\n").encode()
    try:
        while out:
            out = out[os.write(1, out) :]
    except BrokenPipeError:  # `linkctl apply FILE | head -0`: the reader left, as _leave in cli/guard.py
        return 0
    except OSError as exc:  # ENOSPC, EIO, EBADF
        try:
            os.write(2, f"linkctl: cannot write to standard output ({exc.strerror}): {said}\n".encode())
        except OSError:
            return 1  # stderr fails too: the exit code alone says it
        return 1
    return 0


def answer(command: str, path: str, netns: str | None) -> str | None:
    """For `linkctl apply|plan FILE [--netns NS]`: the no-op answer when a receipt still holds, else None."""
    # Imported here: `import linkctl.fastpath` (the full path's, for the receipt) cannot fail, and on
    # the fast path a failing import is one more doubt that `reply` leaves to the full command.
    from linkctl.engine.lockfile import Quiet
    from linkctl.fastpath import receipt
    from linkctl.kernel.fastpath import digest_now
    from linkctl.model import source

    if command not in _SAID or not receipt.enabled():
        return None
    try:
        data = source.read_path(path)  # never a FIFO's wait or /dev/zero's end
        held = receipt.load(data, netns)
        if held is None:
            return None
    except (OSError, ValueError, source.Refused):
        return None
    # A change held by `try` (undone at its deadline), half-way, or cut off and due for `recover`:
    # the full path says which, and waits or refuses as it always does.
    quiet = Quiet.enter(command)
    if quiet is None:
        return None
    same = False
    try:
        same = digest_now(held.namespaces, held.layer3, held.vlans) == held.digest and quiet.still()
    finally:
        if not same:
            quiet.close()  # before the full path takes the lock on its own descriptor
    return _SAID[command].format(n=held.interfaces) if same else None
