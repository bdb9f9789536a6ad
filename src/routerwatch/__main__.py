from routerwatch.cli.main import run

run()
