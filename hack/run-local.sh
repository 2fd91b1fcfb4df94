#!/usr/bin/env bash
# `make run`: runs the operator in the foreground against $KUBECONFIG when that cluster answers,
# otherwise against a local control plane (hack/local-cluster.sh) it starts. It installs the CRD,
# applies config/samples and prints the command to watch the sample baseline converge.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CONTROLPLANE_DIR:-$ROOT/bin/k8s/${K8S_VERSION:-1.37.2}}
KUBECTL=$BIN/kubectl
cd "$ROOT"

if [[ -n ${KUBECONFIG:-} ]] && "$KUBECTL" get --raw /readyz >/dev/null 2>&1; then
	echo "[run] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
else
	CONTROLPLANE_DIR=$BIN hack/local-cluster.sh up
	export KUBECONFIG=$ROOT/bin/local-cluster/kubeconfig
fi

"$KUBECTL" apply --server-side -f config/crd/bases >/dev/null
"$KUBECTL" wait --for condition=Established --timeout 60s crd/securitybaselines.security.baseline.dev >/dev/null
"$KUBECTL" apply --server-side -f config/samples/namespaces.yaml -f config/samples/security_v1alpha1_securitybaseline.yaml >/dev/null

cat >&2 <<MSG
[run] CRD installed; sample baseline 'restricted-apps' and namespaces team-a, team-b applied.
[run] in another shell, watch it converge:
  KUBECONFIG=$KUBECONFIG $KUBECTL get securitybaselines
[run] starting the manager (Ctrl-C stops it; 'make cluster-down' stops the local cluster)
MSG
go build -o bin/manager .
# Plain HTTP metrics for local runs (curl localhost:8080/metrics); a cluster install serves
# them over HTTPS with authentication and authorization (--metrics-secure, the default).
exec bin/manager --metrics-secure=false --metrics-bind-address "${METRICS_BIND_ADDRESS:-:8080}" \
	--health-probe-bind-address "${HEALTH_PROBE_BIND_ADDRESS:-:8081}" "$@"
