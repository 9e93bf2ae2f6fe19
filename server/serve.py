"""gunicorn serving the app (`fieldcrm run`)."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class FieldcrmServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app
        from server.jobs import start_scheduler

        app = create_app()
        start_scheduler(app)
        return app


def serve(host: str, port: int, workers: int) -> None:
    print(f"fieldcrm serving on http://{host}:{port}", flush=True)
    FieldcrmServer({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "accesslog": "-",
    }).run()
