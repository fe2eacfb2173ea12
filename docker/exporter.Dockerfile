# Debian's Prometheus Redis exporter, for compose.yaml's `monitoring` profile. It reads REDIS_ADDR and
# REDIS_PASSWORD from the environment and serves metrics on :9121.
# The default base is forkv's own, so the two images share its layers; any Debian bookworm image works.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="forkv-redis-exporter" \
      org.opencontainers.image.description="Debian's prometheus-redis-exporter, for monitoring forkv"

# Debian's version of the exporter is the point of this image; pinning it would break on updates.
# hadolint ignore=DL3008
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends prometheus-redis-exporter; \
    rm -rf /var/lib/apt/lists/*

USER 65534:65534
EXPOSE 9121
ENTRYPOINT ["prometheus-redis-exporter"]
