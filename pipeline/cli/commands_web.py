"""``regwatch web``: serve the read-only web view (``pipeline.web``) with uvicorn."""

from __future__ import annotations

import os

import typer

from pipeline.cli.app import app, clock, config_of, globals_of, reads_config
from pipeline.cli.output import say
from pipeline.errors import UserError

LOOPBACK = "127.0.0.1"


@app.command()
@reads_config
def web(
    ctx: typer.Context,
    host: str = typer.Option(LOOPBACK, "--host", help="Address to bind (default loopback only; 0.0.0.0 = every interface)."),
    port: int = typer.Option(8787, "--port", help="TCP port."),
    allow_ack: bool = typer.Option(False, "--allow-ack", help="Enable POST /alerts/<id>/ack (needs --token-env)."),
    token_env: str = typer.Option(None, "--token-env", metavar="NAME",
                                  help="Environment variable holding the token ack requests must send in the "
                                       "X-Regwatch-Token header."),
) -> None:
    """Serve a read-only web view of the database: changes, documents with status timelines, diffs,
    deadlines, search, alerts and sources (JSON at the same URLs with ?format=json).

    Example: regwatch web --port 8787   (then open http://127.0.0.1:8787/)
    """
    import uvicorn

    from pipeline.web import create_app
    from store import Store

    token = None
    if allow_ack:
        if not token_env:
            raise UserError("--allow-ack needs --token-env NAME", "export a long random token, e.g. "
                            "REGWATCH_WEB_TOKEN=$(openssl rand -hex 32), and pass --token-env REGWATCH_WEB_TOKEN")
        token = os.environ.get(token_env) or None
        if token is None or len(token) < 16:
            raise UserError(f"environment variable {token_env} is unset or shorter than 16 characters",
                            f"export {token_env}=$(openssl rand -hex 32)")
    elif token_env:
        raise UserError("--token-env is only used with --allow-ack", "add --allow-ack, or drop --token-env")
    config = config_of(ctx)
    db = globals_of(ctx).db
    store = Store.open_read_only(db)
    ack_store = Store.open(db, upgrade=False) if allow_ack else None
    application = create_app(store, config, clock=clock(), allow_ack=allow_ack, token=token, ack_store=ack_store)
    if host != LOOPBACK:
        say(f"warning: serving on {host}, not only on this machine; anyone who can reach it can read the database")
    say(f"regwatch web on http://{host}:{port}/ ({store.where}; {'ack enabled' if allow_ack else 'read-only'})")
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    finally:
        store.close()
        if ack_store is not None:
            ack_store.close()
