#!/usr/bin/env bash
# Starts and stops a persistent local control plane on loopback: etcd, kube-apiserver and
# kube-controller-manager (so garbage collection and namespace deletion really happen), built
# from Go modules by hack/build-controlplane.sh. State, logs and the kubeconfig live under
# bin/local-cluster/.
#
#   hack/local-cluster.sh up      # start (idempotent), print how to use it
#   hack/local-cluster.sh down    # stop every process it started
#   hack/local-cluster.sh status  # exit 0 when the API server answers /readyz
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CONTROLPLANE_DIR:-$ROOT/bin/k8s/${K8S_VERSION:-1.37.2}}
DIR=${LOCAL_CLUSTER_DIR:-$ROOT/bin/local-cluster}
API_PORT=${LOCAL_CLUSTER_API_PORT:-6443}
ETCD_PORT=${LOCAL_CLUSTER_ETCD_PORT:-2379}
KCM_PORT=${LOCAL_CLUSTER_KCM_PORT:-10257}
KUBECONFIG_FILE=$DIR/kubeconfig

log() { printf '[local-cluster] %s\n' "$*" >&2; }

ready() {
	[[ -f $KUBECONFIG_FILE ]] && "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" get --raw /readyz >/dev/null 2>&1
}

certs() {
	local pki=$DIR/pki
	[[ -f $pki/admin.crt ]] && return 0
	mkdir -p "$pki"
	(
		cd "$pki"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt -subj "/CN=local-cluster-ca" 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\n' >san.ext
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile san.ext -out apiserver.crt 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin" 2>/dev/null
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out admin.crt 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	)
	"$BIN/kubectl" config --kubeconfig "$KUBECONFIG_FILE" set-cluster local --server "https://127.0.0.1:$API_PORT" \
		--certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
	"$BIN/kubectl" config --kubeconfig "$KUBECONFIG_FILE" set-credentials admin \
		--client-certificate "$pki/admin.crt" --client-key "$pki/admin.key" --embed-certs >/dev/null
	"$BIN/kubectl" config --kubeconfig "$KUBECONFIG_FILE" set-context local --cluster local --user admin >/dev/null
	"$BIN/kubectl" config --kubeconfig "$KUBECONFIG_FILE" use-context local >/dev/null
}

start() { # <name> <command...>
	local name=$1; shift
	if [[ -f $DIR/$name.pid ]] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
		return 0
	fi
	nohup "$@" >"$DIR/$name.log" 2>&1 &
	echo $! >"$DIR/$name.pid"
}

up() {
	for c in etcd kube-apiserver kube-controller-manager kubectl; do
		[[ -x $BIN/$c ]] || { log "missing $BIN/$c: run hack/build-controlplane.sh (make controlplane)"; exit 1; }
	done
	mkdir -p "$DIR"
	if ready; then
		log "already running"
	else
		certs
		local pki=$DIR/pki
		start etcd "$BIN/etcd" --data-dir "$DIR/etcd" --name local \
			--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
			--listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
			--initial-cluster "local=http://127.0.0.1:$((ETCD_PORT + 1))" --unsafe-no-fsync
		start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
			--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
			--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
			--client-ca-file "$pki/ca.crt" --authorization-mode RBAC \
			--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
			--service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
			--cert-dir "$DIR/certs" --endpoint-reconciler-type none
		for _ in $(seq 1 120); do
			ready && break
			sleep 0.5
		done
		ready || { log "kube-apiserver did not become ready; see $DIR/kube-apiserver.log"; exit 1; }
	fi
	start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
		--authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
		--bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
		--service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt" \
		--cluster-signing-cert-file "$DIR/pki/ca.crt" --cluster-signing-key-file "$DIR/pki/ca.key" \
		--controllers '*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller'
	for _ in $(seq 1 60); do
		"$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" get ns kube-system >/dev/null 2>&1 && break
		sleep 0.5
	done
	cat >&2 <<MSG
[local-cluster] running: etcd, kube-apiserver (https://127.0.0.1:$API_PORT), kube-controller-manager
  export KUBECONFIG=$KUBECONFIG_FILE
  $BIN/kubectl get ns
  stop it with: make cluster-down
MSG
}

down() {
	for name in kube-controller-manager kube-apiserver etcd; do
		local pidfile=$DIR/$name.pid
		[[ -f $pidfile ]] || continue
		local pid
		pid=$(cat "$pidfile")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$pidfile"
	done
	log "stopped"
}

case ${1:-} in
up) up ;;
down) down ;;
status) ready ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
