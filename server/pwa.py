"""Serving the built PWA from the same origin as the API (`fieldcrm run`)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory

PLACEHOLDER = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>fieldcrm</title>
<body style="font-family:sans-serif;padding:2em"><h1>fieldcrm</h1>
<p>The app is not built yet: run <code>make run</code> (it builds <code>pwa/dist</code>).</p>
<p>API: <a href="/api/docs">/api/docs</a></p></body></html>"""

NO_CACHE = {"index.html", "sw.js", "registerSW.js", "manifest.webmanifest"}


def init_app(app: Flask) -> None:
    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def pwa(path: str):
        if path.startswith("api/"):
            abort(404)
        dist = Path(current_app.config["PWA_DIST"])
        if not (dist / "index.html").exists():
            return PLACEHOLDER, 200, {"Content-Type": "text/html; charset=utf-8"}
        target = dist / path
        if path and target.is_file() and dist.resolve() in target.resolve().parents:
            response = send_from_directory(dist, path)
            name = Path(path).name
            if path.startswith("assets/"):
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            elif name in NO_CACHE:
                response.headers["Cache-Control"] = "no-cache"
            return response
        # Client-side routes fall back to the app shell.
        response = send_from_directory(dist, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response
