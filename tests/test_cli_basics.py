from typer.testing import CliRunner

from routerwatch.cli.main import app


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ("kb", "check", "scan", "lab", "report", "demo", "audit-config"):
        assert cmd in result.output


def test_unknown_command_is_an_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code != 0
