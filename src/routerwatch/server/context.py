"""What a running server holds: the store, the knowledge, settings, the background worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from routerwatch.server.alerts.worker import AlertOptions, AlertWorker
from routerwatch.server.background import Worker, WorkerOptions
from routerwatch.server.ingest import Settings
from routerwatch.server.knowledge import Knowledge
from routerwatch.server.store import FleetStore

MAX_UPLOAD = 16 * 1024 * 1024
MAX_KB_UPLOAD = 512 * 1024 * 1024


@dataclass
class ServerConfig:
    """Everything `routerwatch serve` can be told (docs/server.md lists each)."""

    db: str | None = None  # fleet store URL; default SQLite in the data dir
    kb_db: str | None = None  # KB URL; default the CLI's KB (or --db when PostgreSQL)
    host: str = "127.0.0.1"
    port: int = 8600
    max_upload: int = MAX_UPLOAD
    max_kb_upload: int = MAX_KB_UPLOAD
    settings: Settings = field(default_factory=Settings)
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    background: bool = True  # run the worker thread
    log_level: str = "info"
    starter: bool = True  # import the shipped starter KB when the KB is empty

    def kb_url(self) -> str | None:
        if self.kb_db:
            return self.kb_db
        if self.db and self.db.startswith(("postgresql", "postgres:")):
            return self.db
        return None


class ServerContext:
    """The live parts, built once per process."""

    def __init__(self, config: ServerConfig) -> None:
        from routerwatch.server import kbops

        self.config = config
        self.store = FleetStore(config.db)
        try:
            self.knowledge = Knowledge(config.kb_url(), starter=config.starter)
        except BaseException:
            self.store.close()
            raise
        kbops.record_change(self.store, self.knowledge, "external",
                            "knowledge base changed while the server was stopped")
        self.worker = Worker(self.store, self.knowledge, config.settings, config.worker)
        self.alerts = AlertWorker(self.store, AlertOptions(tick=min(0.2, config.worker.tick)))

    def start(self) -> None:
        if self.config.background:
            self.worker.start()
            self.alerts.start()

    def close(self) -> None:
        self.worker.stop()
        self.alerts.stop()
        self.knowledge.close()
        self.store.close()
