from linkctl.cli.main import run

run()
