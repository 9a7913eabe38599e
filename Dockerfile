# syntax=docker/dockerfile:1
# ClickClack server image: one static-ish binary with the web app embedded.
#
#   docker build -t clickclack .
#   docker run -d -p 8080:8080 -v clickclack-data:/app/data \
#     -e CLICKCLACK_PUBLIC_URL=https://chat.example.com clickclack
#
# scripts/docker-mirror performs the same steps natively (no Docker engine needed) and
# checks that this file still says what it mirrors: keep the two in sync.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22

# 1. Web app. web/dist is committed, so this stage only refreshes it when web/ has a
#    package.json (the Rust stage embeds whatever web/dist holds).
FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/ ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build; fi

# 2. The release binary.
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist/ web/dist/
RUN cargo build --release --locked -p clickclack \
 && install -D -m 0755 target/release/clickclack /out/clickclack

# 3. Runtime: Debian slim, non-root user, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /app --shell /usr/sbin/nologin clickclack \
 && mkdir -p /app/data \
 && chown -R clickclack:clickclack /app
COPY --from=build /out/clickclack /usr/local/bin/clickclack
USER clickclack
WORKDIR /app
VOLUME /app/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["clickclack"]
CMD ["serve","--addr",":8080","--data","/app/data","--dev-bootstrap=false"]
