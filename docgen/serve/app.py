"""The preview server's ASGI app: the built site's files, with live reload in its pages.

Pages are served as `docgen build` wrote them, except that every HTML response gets one
script tag (templates/serve/livereload.js) naming the page and the site version it was
served at. The script listens to `/_docgen_serve/events` (server-sent events) and reloads
the page when a build changed it, shows a marker while a build runs and an overlay while the
last build failed; on a GPU notebook's page (on a machine with a GPU) it offers a run button,
which posts to `/_docgen_serve/run`. Nothing of this is ever written into the site.
"""

from __future__ import annotations

import asyncio
import html
import json
import mimetypes
from collections.abc import AsyncIterator
from pathlib import PurePosixPath

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from docgen.serve.live import LiveSite
from docgen.site.theme import templates_dir

PREFIX = "/_docgen_serve"
POLL_S = 0.05  # how often an event stream looks at the site's state
HEARTBEAT_S = 15.0  # a comment line this often keeps idle connections from being dropped
NO_STORE = {"Cache-Control": "no-store"}

PLACEHOLDER = """<!doctype html>
<html><head><meta charset="utf-8"><title>Building…</title></head>
<body><p>docgen is building the site; this page reloads when it is ready.</p></body></html>
"""


def site_path(url_path: str) -> str | None:
    """The site path a request names ('' and folders: their index.html); None when it
    climbs out of the site."""
    parts = [p for p in PurePosixPath("/" + url_path).parts[1:]]
    if any(p in ("..", ".") or "\\" in p or "\0" in p for p in parts):
        return None
    path = "/".join(parts)
    if not path or url_path.endswith("/"):
        path = f"{path}/index.html" if path else "index.html"
    return path


def with_live_reload(page: bytes, path: str, version: int) -> bytes:
    """`page` with the live-reload script tag, before its last </body>."""
    tag = (
        f'<script src="{PREFIX}/livereload.js" data-page="{html.escape(path)}" '
        f'data-version="{version}"></script>\n'
    ).encode()
    end = page.rfind(b"</body>")
    return page + tag if end < 0 else page[:end] + tag + page[end:]


def make_app(live: LiveSite) -> Starlette:
    script = templates_dir() / "serve" / "livereload.js"

    async def livereload_js(request: Request) -> Response:
        return FileResponse(script, media_type="text/javascript", headers=NO_STORE)

    async def events(request: Request) -> Response:
        page = site_path(request.query_params.get("page", "")) or "index.html"
        try:
            seen = int(request.query_params.get("version", "0"))
        except ValueError:
            seen = 0
        return StreamingResponse(
            _event_stream(live, page, seen),
            media_type="text/event-stream",
            headers={**NO_STORE, "X-Accel-Buffering": "no"},
        )

    async def run(request: Request) -> Response:
        """The run button of a GPU notebook's page: its notebook runs in the next build."""
        page = site_path(request.query_params.get("page", ""))
        if page is None or not live.request_run(page):
            return Response(
                "this page has no notebook that runs on request", status_code=404, headers=NO_STORE
            )
        return Response(status_code=202, headers=NO_STORE)

    async def site_file(request: Request) -> Response:
        url_path = request.path_params["path"]
        path = site_path(url_path)
        if path is None:
            return Response("not found", status_code=404, headers=NO_STORE)
        out = live.out
        version = live.version  # read before the file: a build in between reloads the page
        if not out.is_dir():
            body = with_live_reload(PLACEHOLDER.encode(), path, version)
            return Response(body, media_type="text/html", headers=NO_STORE)
        file = out / path
        if file.is_dir():
            return RedirectResponse(f"/{path}/", headers=NO_STORE)
        status = 200
        if not file.is_file():
            file, status = out / "404.html", 404
        try:
            data = file.read_bytes()
        except OSError:  # a build swapped the site in between: the next request finds it
            return Response("not found", status_code=404, headers=NO_STORE)
        if file.suffix == ".html":
            return Response(
                with_live_reload(data, path, version),
                status_code=status,
                media_type="text/html",
                headers=NO_STORE,
            )
        media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return Response(data, status_code=status, media_type=media, headers=NO_STORE)

    return Starlette(
        routes=[
            Route(f"{PREFIX}/livereload.js", livereload_js),
            Route(f"{PREFIX}/events", events),
            Route(f"{PREFIX}/run", run, methods=["POST"]),
            Route("/{path:path}", site_file),
        ]
    )


async def _event_stream(live: LiveSite, page: str, seen: int) -> AsyncIterator[str]:
    yield "retry: 500\n\n"  # reconnect quickly when the server restarts
    last = None
    quiet = 0.0
    while True:
        state = live.state_for(page, seen)
        if state.stopping:
            return
        if state != last:
            yield f"data: {json.dumps(state.as_json())}\n\n"
            last, quiet = state, 0.0
        elif quiet >= HEARTBEAT_S:
            yield ": alive\n\n"
            quiet = 0.0
        await asyncio.sleep(POLL_S)
        quiet += POLL_S
