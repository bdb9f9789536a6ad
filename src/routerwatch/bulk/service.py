"""Front-end helpers for a bulk run: the knowledge base the workers will use, and a small
in-process run the demo can show (see :func:`demo_step`)."""

from __future__ import annotations

from pathlib import Path

from routerwatch.bulk.engines import KbSource
from routerwatch.bulk.io import DatasetError


def prepare_kb(
    db: str | None, bundle: Path | None, policy: str | None
) -> tuple[KbSource, str | None]:
    """The KbSource for the workers; with no bundle the KB at ``db`` gets the starter bundle
    when it is empty (as `scan` does). Returns (source, note for the user or None)."""
    from routerwatch.assess import PolicyError, load_policy
    from routerwatch.kb import KBError, ensure_starter, open_kb

    if policy:
        try:
            load_policy(policy)  # fail here, once, rather than on every worker
        except PolicyError as exc:
            raise DatasetError(str(exc)) from exc
    if bundle is not None:
        if not bundle.is_file():
            raise DatasetError(f"--kb-bundle {bundle}: no such file")
        return KbSource(bundle=str(bundle.resolve()), policy=policy), None
    note = None
    try:
        kb = open_kb(db)
        try:
            if ensure_starter(kb):
                note = "the knowledge base was empty: imported the bundled starter KB"
            url = str(kb.engine.url.render_as_string(hide_password=False))
        finally:
            kb.close()
    except KBError as exc:
        raise DatasetError(str(exc)) from exc
    return KbSource(url=url, policy=policy), note
