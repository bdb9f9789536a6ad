"""The on-disk outbox (bounded, ordered, atomic) and the credential file's permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from routerwatch.agent.config import ConfigError, Credential, config_path, load, save
from routerwatch.agent.outbox import Outbox


def test_outbox_keeps_order_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path, max_items=10) as box:
        for i in range(4):
            assert box.put(f"run-{i}", {"n": i}) == 0
        first = box.peek(2)
        assert [r for _, r, _ in first] == ["run-0", "run-1"]
        box.ack(first[0][0])
    with Outbox(path, max_items=10) as box:  # a new process sees the same queue
        assert [d["n"] for _, _, d in box.peek()] == [1, 2, 3]
        assert len(box) == 3


def test_outbox_is_bounded_and_counts_what_it_dropped(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", max_items=3) as box:
        dropped = [box.put(f"r{i}", {"n": i}) for i in range(7)]
        assert dropped == [0, 0, 0, 1, 1, 1, 1]
        assert [d["n"] for _, _, d in box.peek()] == [4, 5, 6]  # the oldest went
        assert box.dropped == 4
        entry = box.peek(1)[0][0]
        box.reject(entry)
        assert box.rejected == 1 and len(box) == 2
    with pytest.raises(ValueError):
        Outbox(tmp_path / "x.db", max_items=0)


def _cred() -> Credential:
    return Credential(kind="agent", url="http://127.41.0.1:1", token="rwt_1_secret",
                      agent_id=1, site="remote", org="acme", name="laptop")


def test_credential_is_written_user_only_and_read_back() -> None:
    path = save(_cred())
    assert path == config_path("agent")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load("agent").token == "rwt_1_secret"
    assert "secret" not in str(load("agent").public())


def test_credential_readable_by_others_is_refused() -> None:
    path = save(_cred())
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"readable by others.*chmod 600"):
        load("agent")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="not a sensor one"):
        load("sensor", path)


def test_missing_or_broken_credential_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"not enrolled.*agent enroll"):
        load("agent")
    path = config_path("agent")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{not json")
    os.close(fd)
    with pytest.raises(ConfigError, match="not a valid agent credential"):
        load("agent")
