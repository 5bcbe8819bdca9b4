# ThePred Jobs: one image for every role (front, worker, scheduler, migrate, the CLI).
# Build: docker build -t thepred:0.16.0 .   Run: docker run thepred:0.16.0 worker
#
# No Docker engine runs where this project is developed, so ops/check-deploy checks this file
# instead: every shared library `ldd` lists for a release `thepred` must come from a package the
# runtime stage installs (or their dependencies, or the base image), or be a Swift runtime library
# the runtime stage copies from the build stage.

# --- build: the toolchain and the C libraries' headers -------------------------------------------
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis-dev libpq-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not fetch and build them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY schemas ./schemas
RUN swift build -c release --product thepred \
 && install -D "$(swift build -c release --show-bin-path)/thepred" /out/thepred

# --- runtime: the binary, the Swift runtime libraries, and the C libraries it links ---------------
FROM debian:bookworm-slim
# libhiredis0.14, libpq5 and libcurl4 are the libraries the binary links (Sources/C*); libstdc++6
# and libgcc-s1 the Swift runtime's own; ca-certificates for HTTPS to Telegram; tzdata for Foundation.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis0.14 libpq5 libcurl4 libstdc++6 libgcc-s1 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/lib/swift/linux/ /usr/lib/swift/linux/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig
COPY --from=build /out/thepred /usr/local/bin/thepred
COPY schemas /usr/share/thepred/schemas
# `thepred migrate` reads its SQL here, not from the source tree it was built in.
ENV MIGRATIONS_DIR=/usr/share/thepred/schemas/sql
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin thepred
USER 10001
# 8080: the front's API; 9464-9466: the /metrics listeners (front, worker, scheduler).
EXPOSE 8080 9464 9465 9466
ENTRYPOINT ["/usr/local/bin/thepred"]
CMD ["--help"]
