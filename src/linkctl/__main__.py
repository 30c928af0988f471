# A signal while the entry module itself is imported would come before its handlers: the
# interpreter's default for SIGINT prints a traceback there. Caught here for `python -m linkctl`;
# the installed `linkctl` script imports the same small module first (cli/entry.py's imports are
# the standard library only), so the window is its import alone.
try:
    from linkctl.cli.entry import run
except KeyboardInterrupt:
    import sys

    sys.stderr.write("linkctl: interrupted: nothing was changed\n")
    raise SystemExit(130) from None

run()
