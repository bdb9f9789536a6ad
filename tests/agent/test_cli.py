"""The agent and sensor commands' edges: clear one-line errors, help, the schedule's jitter."""

from __future__ import annotations

import random
from pathlib import Path

from typer.testing import CliRunner

from routerwatch.agent.runner import RoundResult, next_delay, run_forever
from routerwatch.cli.main import app

DATA = Path(__file__).parent / "data"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_not_enrolled_is_one_clear_error() -> None:
    for cmd in (["agent", "status"], ["agent", "run-once"], ["sensor", "run-once"],
                ["sensor", "status"]):
        code, out = run(*cmd)
        assert code == 2, out
        assert "not enrolled" in out and "Traceback" not in out
        assert len(out.strip().splitlines()) <= 2


def test_bad_arguments_are_named() -> None:
    code, out = run("agent", "enroll", "fleet.example.com", "rwe_1_x")
    assert code == 3 and "expected an http(s):// server URL" in out
    code, out = run("agent", "enroll", "http://127.41.0.9:9", "rwe_1_x")  # closed port
    assert code == 3 and "cannot reach http://127.41.0.9:9" in out
    code, out = run("agent", "enroll", "https://x", "rwe_1_x", "--ca-cert", "/nonexistent.pem")
    assert code == 2 and "--ca-cert: no such file" in out
    code, out = run("sensor", "enroll", "http://127.41.0.9:9", "rwe_1_x", "--scope", "8.8.8.0/24")
    assert code == 2 and "public addresses" in out
    code, out = run("agent", "run-once", "--os", "beos")
    assert code == 2


def test_help_explains() -> None:
    code, out = run("agent", "--help")
    assert code == 0 and "enroll" in out and "run-once" in out and "status" in out
    code, out = run("agent", "run-once", "--help")
    assert "--dry-run" in out and "--recorded" in out
    code, out = run("sensor", "enroll", "--help")
    assert "--scope" in out


def test_schedule_spreads_rounds_with_jitter() -> None:
    rng = random.Random(1)
    delays = [next_delay(600, 0.1, rng) for _ in range(200)]
    assert 540 <= min(delays) < 560 and 640 < max(delays) <= 660  # ±10 %, both sides used
    slept: list[float] = []
    count = run_forever(lambda: RoundResult(at="now", interval_seconds=120), interval=None,
                        jitter=0.1, rounds=3, sleep=slept.append)
    assert count == 3
    assert len(slept) == 3  # the first spread, then between rounds (not after the last)
    assert 0 <= slept[0] <= 12 and all(108 <= s <= 132 for s in slept[1:])


def test_every_option_and_event_is_documented() -> None:
    import typer

    from routerwatch.cli import agent, sensor, serve_agents
    from routerwatch.server.events import TYPES

    doc = (Path(__file__).parents[2] / "docs" / "agents.md").read_text()
    for typer_app, prefix in ((agent.app, "agent"), (sensor.app, "sensor"),
                              (serve_agents.app, "serve enrol")):
        group = typer.main.get_group(typer_app)
        for name, command in group.commands.items():
            assert f"{prefix} {name}" in doc or f"`{name}`" in doc, (prefix, name)
            for param in command.params:
                for opt in param.opts:
                    if opt.startswith("--") and opt != "--help":
                        assert opt in doc, (prefix, name, opt)
    for etype in TYPES:
        if etype.startswith(("agent.", "sensor.")):
            assert f"`{etype}`" in doc
