"""The service as `make run` and the image build it, with the log level as a knob.

`app.main.app_factory` configures logging at INFO, where the request middleware writes one
JSON access line per request; there is no setting for it yet (see BENCHMARKS.md). The
bench serves through this factory so it can run at WARNING (BENCH_LOG_LEVEL, default) and,
in one comparison row, at the shipped INFO with the lines going to a file."""

from __future__ import annotations

import os

from fastapi import FastAPI

from app.core.logging import configure_logging
from app.main import create_app


def app_factory() -> FastAPI:
    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    return create_app()
