# regwatch in a container: small (python:3.11-slim, no compilers), runs as a non-root user,
# keeps its data on the /data volume. See README "Deployment" (compose.yaml adds PostgreSQL).
#   docker build -t regwatch .
#   docker compose up -d --build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin regwatch \
    && mkdir -p /data \
    && chown regwatch:regwatch /data

WORKDIR /src
# requirements.lock pins every dependency (regenerate with .ci/lock); the project installs over it unchanged.
COPY pyproject.toml README.md requirements.lock ./
COPY alerts ./alerts
COPY crawlers ./crawlers
COPY pipeline ./pipeline
COPY store ./store
RUN pip install -r requirements.lock && pip install ".[postgres]" && rm -rf /src

USER regwatch
WORKDIR /data
VOLUME /data
ENV HOME=/data \
    REGWATCH_DB=/data/regwatch.db

# The daemon handles SIGTERM itself (finishes the running job); give it time:
# docker stop --time 960 (compose.yaml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["regwatch"]
CMD ["daemon"]
