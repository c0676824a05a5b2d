# gate as a container image: `docker run --rm -v "$PWD:/work" IMAGE check trivy.json ...`
#
# Build (the three build arguments are required; the build fails without them, so an image
# never carries empty provenance labels):
#   docker build \
#     --build-arg VERSION="$(python3 -c 'import gate; print(gate.__version__)')" \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE="https://github.com/OWNER/REPO" -t image-gate .
#
# Base: python:3.11-slim-bookworm (CPython 3.11 on Debian 12: glibc 2.36, and the regorus
# engine's wheels need glibc >= 2.34), pinned by the digest of its multi-platform index as
# published by Docker's official-images bookkeeping (docker-library/repo-info,
# repos/python/remote/3.11-slim-bookworm.md, CPython 3.11.16 built 2026-08-25). Moving the
# pin is a reviewed change, like any dependency upgrade.

FROM python:3.11-slim-bookworm@sha256:fe556eaffd0d96abd8685b83bb8a69addd0dc730fa193669a7df0d49ddcfac02 AS builder

ARG VERSION
ARG REVISION
ARG SOURCE

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY gate ./gate
COPY policies ./policies

# Build the wheel (sdist -> wheel, as a release does) with a throw-away build venv, install it
# into a venv without pip (nothing in the final image installs anything), then prove that the
# labels tell the truth: the installed gate reports VERSION, REVISION and SOURCE are given,
# and the bundled pack passes its own lint.
RUN test -n "$VERSION" && test -n "$REVISION" && test -n "$SOURCE" \
    && python -m venv /tmp/build \
    && /tmp/build/bin/pip install "build>=1.2,<2" \
    && /tmp/build/bin/python -m build --outdir /tmp/dist . \
    && python -m venv --without-pip /opt/gate \
    && /tmp/build/bin/pip --python /opt/gate/bin/python install /tmp/dist/image_gate-*.whl \
    && test "$(/opt/gate/bin/gate --version)" = "gate, version ${VERSION}" \
    && /opt/gate/bin/gate policy lint --strict

FROM python:3.11-slim-bookworm@sha256:fe556eaffd0d96abd8685b83bb8a69addd0dc730fa193669a7df0d49ddcfac02

ARG VERSION
ARG REVISION
ARG SOURCE

LABEL org.opencontainers.image.title="image-gate" \
      org.opencontainers.image.description="Policy-as-code quality gate for container images" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm" \
      org.opencontainers.image.base.digest="sha256:fe556eaffd0d96abd8685b83bb8a69addd0dc730fa193669a7df0d49ddcfac02"

COPY --from=builder /opt/gate /opt/gate

ENV PATH=/opt/gate/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RUST_LIB_BACKTRACE=0

# A numeric non-root user that exists nowhere in /etc/passwd owns nothing in the image: gate
# reads its inputs from the mounted working directory and writes only where it is told.
USER 65532:65532
WORKDIR /work

# gate is a one-shot CLI, not a service: there is nothing to probe between start and exit, and a
# periodic `gate --version` would only report that Python starts. Disabled explicitly (the
# default pack reports this as a low-severity warning, which we accept and document).
HEALTHCHECK NONE

ENTRYPOINT ["gate"]
CMD ["--help"]
