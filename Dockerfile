# mrhost as a container image: the binary and the bundled plugins, run as a non-root user.
#
#   docker build -t mrhost .
#   docker run --rm -e AWS_REGION=us-east-1 mrhost sync --to postgres://... --org-role ROLE
#
# Two stages: the builder compiles the host (release) and every bundled plugin
# (wasm32-wasip2, profile `plugin`); the runtime stage is Debian slim with CA roots (the AWS
# and PostgreSQL TLS roots come from the system store), `sh` and coreutils (the deployment
# files in deploy/ compute the shard and the sync id in a one-line shell), nothing else.
# See docs/deploy.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
RUN rustup target add wasm32-wasip2 \
 && apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The host, then the bundled plugins (plugins/*, not the SDK, not the test-only plugins).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p mrhost \
 && plugins=$(for d in plugins/*/; do n=$(basename "$d"); \
      [ -f "$d/Cargo.toml" ] && [ "$n" != sdk ] && printf -- '-p %s ' "$n"; done) \
 && cargo build --locked --profile plugin --target wasm32-wasip2 $plugins \
 && mkdir -p /out/bin /out/share/mrhost/plugins \
 && cp target/release/mrhost /out/bin/mrhost \
 && for d in plugins/*/; do n=$(basename "$d"); \
      [ -f "$d/Cargo.toml" ] && [ "$n" != sdk ] || continue; \
      cp "target/wasm32-wasip2/plugin/$(echo "$n" | tr - _).wasm" "/out/share/mrhost/plugins/$n.wasm"; \
    done \
 && ls /out/share/mrhost/plugins | grep -q '\.wasm$'

FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /home/mrhost --create-home mrhost
# mrhost finds the bundled plugins at ../share/mrhost/plugins from its binary.
COPY --from=build /out/bin/mrhost /usr/local/bin/mrhost
COPY --from=build /out/share/mrhost/plugins/ /usr/local/share/mrhost/plugins/
# The compiled-plugin cache and mrhost's state go to a writable directory (an emptyDir in
# Kubernetes, where the root filesystem is read-only); the response cache is off: every
# shard runs once and caching answers would only cost disk.
ENV MRHOST_CACHE_DIR=/var/cache/mrhost \
    XDG_STATE_HOME=/var/cache/mrhost/state \
    MRHOST_NO_CACHE=1
RUN mkdir -p /var/cache/mrhost && chown 10001:10001 /var/cache/mrhost
USER 10001:10001
WORKDIR /home/mrhost
ENTRYPOINT ["/usr/local/bin/mrhost"]
CMD ["--help"]
