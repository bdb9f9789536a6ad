"""`routerwatch serve enrol ...`: enrolment tokens, agents and scan jobs, on the server host."""

from __future__ import annotations

from typing import Any

import typer

from routerwatch.cli.common import console, fail, print_json

app = typer.Typer(help="Enrol agents and sensors: one-time tokens, the list, revocation, "
                  "scan jobs (run on the server host).", no_args_is_help=True)

OrgOption = typer.Option(..., "--org", help="Organisation (created when new).")
DbOption = typer.Option(None, "--db", help="Fleet database URL (default: SQLite fleet.db in "
                        "the data dir).")


def _store(db: str | None) -> Any:
    from routerwatch.cli.serve import _store as open_store

    return open_store(db)


@app.command("create")
def create(
    org: str = OrgOption,
    site: str = typer.Option(..., "--site", help="Site the agent or sensor reports for."),
    kind: str = typer.Option("agent", "--kind", help="agent or sensor."),
    expires_hours: int = typer.Option(168, "--expires-hours", min=1, max=24 * 90,
                                      help="Hours the token stays usable (it is one-time)."),
    silent_after: int | None = typer.Option(None, "--silent-after", min=5, help="Seconds "
                                            "without contact before an agent.silent / "
                                            "sensor.silent event (default 3 days / 3 hours)."),
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a one-time enrolment token for SITE and print it once."""
    from datetime import timedelta

    from routerwatch.server.agents import KINDS, create_enrolment

    if kind not in KINDS:
        fail(f"--kind: expected agent or sensor, got {kind!r}")
    store = _store(db)
    try:
        with store.write() as conn:
            org_id = store.ensure_org(conn, org)
            made = create_enrolment(conn, store, org_id, site, kind,
                                    expires_in=timedelta(hours=expires_hours),
                                    silent_after=silent_after)
    finally:
        store.close()
    if as_json:
        print_json({"id": made.id, "org": org, "site": site, "kind": kind, "token": made.token,
                    "expires_at": made.expires_at})
        return
    console.print(f"enrolment token {made.id} ({kind} of site {site!r}, {org}); one-time, "
                  f"expires {made.expires_at:%Y-%m-%d %H:%M}Z:", highlight=False)
    typer.echo(made.token)


@app.command("list")
def list_agents(org: str = OrgOption, db: str | None = DbOption) -> None:
    """List the organisation's agents and sensors with their last contact (JSON)."""
    import sqlalchemy as sa

    from routerwatch.server.store import agents as ta
    from routerwatch.server.store import schema as t

    store = _store(db)
    try:
        with store.read() as conn:
            rows = conn.execute(
                sa.select(ta.agents.c.id, ta.agents.c.kind, ta.agents.c.name,
                          t.sites.c.name.label("site"), ta.agents.c.last_contact,
                          ta.agents.c.uploads, ta.agents.c.silent, ta.agents.c.revoked_at)
                .join(t.sites, t.sites.c.id == ta.agents.c.site_id)
                .join(t.orgs, t.orgs.c.id == ta.agents.c.org_id)
                .where(t.orgs.c.name == org).order_by(ta.agents.c.id)).all()
    finally:
        store.close()
    print_json([dict(r._mapping) for r in rows])


@app.command("revoke")
def revoke(agent_id: int = typer.Argument(..., help="Agent or sensor id."),
           org: str = OrgOption, db: str | None = DbOption) -> None:
    """Revoke an agent or sensor: its credential stops working at once."""
    import sqlalchemy as sa

    from routerwatch.server.agents import revoke_agent
    from routerwatch.server.store import schema as t

    store = _store(db)
    try:
        with store.read() as conn:
            org_id = conn.execute(sa.select(t.orgs.c.id).where(t.orgs.c.name == org)).scalar()
        if org_id is None or not revoke_agent(store, int(org_id), agent_id):
            fail(f"no active agent {agent_id} in organisation {org!r}")
    finally:
        store.close()
    console.print(f"agent {agent_id} revoked", highlight=False)
