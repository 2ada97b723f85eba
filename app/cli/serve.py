"""``wasteroute serve [--host H] [--port P]``: run the HTTP service."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.setup import set_up

HostOption = Annotated[str | None, typer.Option(help="Interface to listen on (default: WASTEROUTE_HOST or 127.0.0.1).")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (default: WASTEROUTE_PORT or 8000).")]


def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Run the HTTP service (API, /docs) until interrupted."""
    import uvicorn

    from app.main import create_app

    settings = set_up(host=host, port=port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level)
