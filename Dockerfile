# Multi-stage build of the weir binary with its plugins compiled to WebAssembly and embedded.
FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2 \
 && apt-get update && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY wit wit
COPY host host
COPY plugins plugins
COPY tests tests
COPY examples examples
RUN cargo build --release -p weir --locked \
 && cp target/release/weir /usr/local/bin/weir

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/weir /usr/local/bin/weir
COPY examples /etc/weir/examples
ENV XDG_CACHE_HOME=/var/cache
ENTRYPOINT ["weir"]
