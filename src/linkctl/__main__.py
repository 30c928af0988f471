from linkctl.cli.entry import run

run()
