# source-oura as an Airbyte connector image.
#
#   make image                  # docker build with the tag and version from VERSION
#   docker run --rm source-oura/source-oura:0.2.0 spec
#
# The version comes from the VERSION file: make image passes it as --build-arg VERSION, and the
# default below must equal it for a plain `docker build .` (integration_tests/project_test.go
# checks that, and that metadata.yaml's dockerImageTag agrees).
#
# Both base images are build arguments so that a machine without a registry can point them at
# local stand-ins (integration_tests/image/test.sh does). The runtime image must have /bin/sh:
# Airbyte's Kubernetes launcher ignores ENTRYPOINT and starts every connector as
# sh -c 'eval "$AIRBYTE_ENTRYPOINT <command> <args>"', so scratch or distroless-static images fail
# there.
# Fully qualified names: podman and buildah have no docker.io short-name alias by default, and
# refuse "golang:1.26-alpine" before pulling anything.
ARG GO_IMAGE=docker.io/library/golang:1.26-alpine
ARG RUNTIME_IMAGE=docker.io/library/alpine:3.22
ARG VERSION=0.2.0

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, in their own layer, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version shown by `source-oura --version` (the global ARG above).
ARG VERSION
# A static binary: the runtime image may have a different C library, or none.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/source-oura . \
 && mkdir -p /out/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/certs/ca-certificates.crt

FROM ${RUNTIME_IMAGE}
ARG VERSION
# uid and gid 1000 are what Airbyte's rootless mode runs connectors as; /airbyte is where the
# platform may mount config and catalog files, so the connector's user must own it. The user is
# written straight into /etc/passwd and /etc/group because adduser differs between bases (and
# some BusyBox builds have none); the grep stops the build if the base already uses the ids.
RUN ! grep -Eq '^[^:]*:[^:]*:1000:' /etc/passwd /etc/group \
 && echo 'airbyte:x:1000:1000:Airbyte connector:/airbyte:/bin/sh' >> /etc/passwd \
 && echo 'airbyte:x:1000:' >> /etc/group \
 && mkdir -p /airbyte \
 && chown 1000:1000 /airbyte \
 && chmod 0755 /airbyte
# The builder's CA bundle, so HTTPS to api.ouraring.com works whatever the runtime base ships.
COPY --from=build /out/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/source-oura /usr/local/bin/source-oura
# Both values must equal dockerRepository and dockerImageTag in metadata.yaml.
LABEL io.airbyte.name="source-oura/source-oura" \
      io.airbyte.version="${VERSION}"
# Must equal ENTRYPOINT, with absolute paths: the platform changes the working directory.
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/source-oura"
ENTRYPOINT ["/usr/local/bin/source-oura"]
WORKDIR /airbyte
USER airbyte
