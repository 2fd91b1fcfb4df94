#!/usr/bin/env bash
# Builds a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kubectl)
# from Go modules only, into bin/k8s/<version>/. Idempotent: a component already present is
# skipped. The wrapper modules under hack/controlplane/ pin every dependency (go.mod + go.sum).
#
#   hack/build-controlplane.sh            # build what is missing, print the directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.7.3}
OUT=${CONTROLPLANE_DIR:-$ROOT/bin/k8s/$K8S_VERSION}
mkdir -p "$OUT"

log() { printf '[controlplane] %s\n' "$*" >&2; }

major=${K8S_VERSION%%.*}
minor=${K8S_VERSION#*.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X '$pkg.gitVersion=v$K8S_VERSION' -X '$pkg.gitMajor=$major' -X '$pkg.gitMinor=$minor' \
-X '$pkg.gitTreeState=clean' -X '$pkg.buildDate=1970-01-01T00:00:00Z'"

build() { # <wrapper dir> <output name> <package>
	local dir=$1 name=$2 pkgpath=$3
	if [[ -x "$OUT/$name" ]]; then
		return 0
	fi
	log "building $name (cold: several minutes; cached in $OUT afterwards)"
	local start=$SECONDS
	(cd "$ROOT/hack/controlplane/$dir" &&
		CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags="$ldflags" -o "$OUT/$name.tmp" "$pkgpath")
	mv "$OUT/$name.tmp" "$OUT/$name"
	log "built $name in $((SECONDS - start))s"
}

build etcd etcd .
build kubernetes kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubernetes kubectl k8s.io/kubernetes/cmd/kubectl
build kubernetes kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
echo "$OUT"
