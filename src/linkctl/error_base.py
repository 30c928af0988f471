"""The one base class of linkctl's errors, importable on its own.

`linkctl apply` of a receipted no-op reads the runtime directory before anything else is
loaded (linkctl/fastpath/): linkctl.errors brings dataclasses and inspect (about 9 ms), this
brings nothing.
"""


class LinkctlError(Exception):
    """An error the front ends print as it is, with exit code 1."""

    exit_code = 1
