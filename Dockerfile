# syntax=docker/dockerfile:1
# Production image: docker build -t reactdjango-hub .   (docker-compose.yml runs the whole stack)
# The same image runs the web server (default CMD), the Celery worker, beat and migrations.

# --- builder: a virtualenv with the production requirements ---------------------------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/base.txt requirements/production.txt /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/production.txt

# --- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim
# The run-time packages of scripts/sysdeps.py's "run" list: xmlsec1 (SAML signing and checking,
# pysaml2); libmagic1 (uploads are recognised by their bytes); pango and harfbuzz (WeasyPrint's
# PDF reports); poppler-utils and tesseract-ocr with the languages the files settings offer (the
# worker's content processing: PDF text and pages, OCR).
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 libmagic1 \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils \
       tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/hub hub
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    WEB_CONCURRENCY=2 \
    FORWARDED_ALLOW_IPS=* \
    PROMETHEUS_MULTIPROC_DIR=/tmp/hub-metrics
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# Code stays root-owned (read-only for the app); only .data/ (media, beat schedule) is writable.
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput \
    && mkdir -p .data/media /tmp/hub-metrics \
    && chown -R hub:hub .data /tmp/hub-metrics
USER hub
EXPOSE 8000
# uvicorn takes its worker count from $WEB_CONCURRENCY and the proxies whose X-Forwarded-*
# headers it trusts from $FORWARDED_ALLOW_IPS (narrow it to your reverse proxy's address).
# No permessage-deflate on websockets: its compressor costs ~37 kB per connection for pushes of a
# few hundred bytes.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", \
     "--ws-per-message-deflate", "false"]
