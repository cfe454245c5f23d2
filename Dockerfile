# Roster: a multi-stage build. The builder compiles the `roster` binary; the runtime image holds
# it, CA certificates and curl (for the health check), and runs as an unprivileged user.
#
#   docker build -t roster .
#   docker run -p 8080:8080 -e ROSTER_LISTEN=0.0.0.0:8080 roster

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p roster-cli \
 && cp target/release/roster /usr/local/bin/roster

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/roster --create-home roster
COPY --from=build /usr/local/bin/roster /usr/local/bin/roster
USER roster
WORKDIR /var/lib/roster
ENV ROSTER_DATA_DIR=/var/lib/roster \
    ROSTER_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["roster"]
CMD ["serve"]
