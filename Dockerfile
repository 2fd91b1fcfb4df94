# The operator image: a static manager binary on distroless (no shell, no package manager),
# running as the nonroot user. `make docker-build IMG=... [CONTAINER_TOOL=podman]`.
# test/install builds the binary with this file's exact `go build` line and runs it as uid 65532.

# Pinned by tag to the Go release go.mod's toolchain is tested with; pin by digest too in
# release pipelines (golang:1.26.8-bookworm@sha256:...), resolved where a registry is reachable.
FROM golang:1.26.8-bookworm AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY main.go main.go
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags='-s -w' -o manager main.go

# distroless nonroot: no shell, uid 65532, passes the restricted Pod Security level.
FROM gcr.io/distroless/static:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="securitybaseline-operator" \
      org.opencontainers.image.description="Keeps namespaces on a declared security baseline (Pod Security, NetworkPolicies, RBAC, secret stores) and repairs drift." \
      org.opencontainers.image.source="https://github.com/securitybaseline/securitybaseline-operator" \
      org.opencontainers.image.url="https://github.com/securitybaseline/securitybaseline-operator" \
      org.opencontainers.image.documentation="https://github.com/securitybaseline/securitybaseline-operator#install" \
      org.opencontainers.image.vendor="securitybaseline-operator maintainers" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
