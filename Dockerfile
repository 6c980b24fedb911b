# One image for every Procura service; the command picks the service:
#   docker run procura serve orders
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PROCURA_VAR=/var/lib/procura

WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /var/lib/procura --create-home procura

USER procura
EXPOSE 8080 9100
ENTRYPOINT ["procura"]
CMD ["serve", "gateway"]
