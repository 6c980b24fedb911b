# One image for every Procura service; the command picks what it runs:
#   docker run procura serve orders       (any of: identity catalog orders approvals
#   docker run procura migrate             reporting notifications gateway)
# Every process serves Prometheus metrics on $METRICS_PORT (9100); the gateway also answers
# HTTP on $GATEWAY_PORT (8080) with /healthz, /readyz and /metrics.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/procura/bin:$PATH \
    PROCURA_VAR=/var/lib/procura \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100

# The pinned dependencies of pyproject.toml first, on their own layer, so that a change to
# the code alone does not reinstall them.
WORKDIR /src
COPY pyproject.toml ./
RUN python -m venv /opt/procura \
 && mkdir services && touch services/__init__.py \
 && pip install . \
 && pip uninstall --yes procura \
 && rm -rf build ./*.egg-info services

COPY services ./services
RUN pip install --no-deps . \
 && rm -rf /src/* \
 && groupadd --system --gid 10001 procura \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/procura --create-home procura

# A numeric user lets Kubernetes check runAsNonRoot.
USER 10001:10001
WORKDIR /var/lib/procura
EXPOSE 8080 9100

# Every service answers on its metrics port once it has started; the gateway's own
# healthcheck (compose, Kubernetes) uses /healthz and /readyz instead.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('METRICS_PORT', '9100'), timeout=4)"]

ENTRYPOINT ["procura"]
CMD ["serve", "gateway"]
