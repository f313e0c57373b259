# The aggregator: one image for every role, chosen by the command
# (run: poll and serve; serve: web only; poll: pollers only; db upgrade; db purge;
# status; check). deploy/compose.yaml runs it scaled out on PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AGGREGATOR_CONFIG=/etc/aggregator/feeds.yaml \
    AGGREGATOR_DATABASE_URL=sqlite:////data/aggregator.db \
    AGGREGATOR_HOST=0.0.0.0 \
    AGGREGATOR_PORT=8080

WORKDIR /src
COPY pyproject.toml README.md ./
COPY aggregator ./aggregator
RUN pip install . && rm -rf /src

COPY feeds.yaml /etc/aggregator/feeds.yaml
RUN useradd --system --uid 10001 --home-dir /data aggregator \
    && mkdir -p /data && chown aggregator /data
USER aggregator
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# Health: GET /healthz on the web roles (the compose file sets the check per role).
ENTRYPOINT ["aggregator"]
CMD ["run"]
