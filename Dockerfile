# Multi-stage: build a venv from the hashed lock file, run as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock .
RUN python -m venv /venv && /venv/bin/pip install --require-hashes --no-deps -r requirements.lock

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENVIRONMENT=production PORT=8000
RUN useradd --system --uid 10001 --home /srv envduty
WORKDIR /srv
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN mkdir -p /srv/data && chown envduty /srv/data
USER envduty
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz')"
# Migrate, then serve. Graceful shutdown lets in-flight requests finish (REL-16).
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:app_factory --factory --host 0.0.0.0 --port ${PORT} --proxy-headers --timeout-graceful-shutdown 20"]
