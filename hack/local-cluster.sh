#!/usr/bin/env bash
# Starts and stops a persistent local control plane on loopback: etcd, kube-apiserver and
# kube-controller-manager (so garbage collection and namespace deletion really happen), built
# from Go modules by hack/build-controlplane.sh. State, logs and the kubeconfig live under
# bin/local-cluster/ (LOCAL_CLUSTER_DIR).
#
#   hack/local-cluster.sh up      # start what is not running (idempotent); exit 0 only when every
#                                 # component is alive and healthy, else print the dead one's log
#   hack/local-cluster.sh down    # stop every process it started
#   hack/local-cluster.sh status  # report each component; exit 0 only when all are healthy
#
# Knobs: CONTROLPLANE_DIR (binaries), LOCAL_CLUSTER_DIR, LOCAL_CLUSTER_API_PORT (6443),
# LOCAL_CLUSTER_ETCD_PORT (2379; the peer port is +1), LOCAL_CLUSTER_KCM_PORT (10257),
# LOCAL_CLUSTER_TIMEOUT (seconds each component may take to become healthy, 120).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CONTROLPLANE_DIR:-$ROOT/bin/k8s/${K8S_VERSION:-1.37.2}}
DIR=${LOCAL_CLUSTER_DIR:-$ROOT/bin/local-cluster}
API_PORT=${LOCAL_CLUSTER_API_PORT:-6443}
ETCD_PORT=${LOCAL_CLUSTER_ETCD_PORT:-2379}
KCM_PORT=${LOCAL_CLUSTER_KCM_PORT:-10257}
TIMEOUT=${LOCAL_CLUSTER_TIMEOUT:-120}
KUBECONFIG_FILE=$DIR/kubeconfig
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

# Controllers that need nodes, a kubelet or a cloud provider: there are none here. Old and new
# names both; only those this kube-controller-manager knows are disabled (see controllers()).
NODE_OR_CLOUD_CONTROLLERS=(
	node-ipam-controller nodeipam
	node-lifecycle-controller nodelifecycle
	taint-eviction-controller device-taint-eviction-controller
	ttl-controller
	persistentvolume-attach-detach-controller attachdetach
	cloud-node-lifecycle-controller cloud-node-lifecycle
	service-lb-controller service
	node-route-controller route
)

log() { printf '[local-cluster] %s\n' "$*" >&2; }

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" --request-timeout 5s "$@"; }

# pid_of <name>: print the pid of the running component, fail when it is not running. The pid
# file alone is not trusted: the process must still exist and be that binary.
pid_of() {
	local name=$1 pid argv0=
	[[ -f $DIR/$name.pid ]] || return 1
	pid=$(<"$DIR/$name.pid")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/cmdline ]]; then
		IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" || true
		[[ ${argv0##*/} == "$name" ]] || return 1
	fi
	echo "$pid"
}

# healthy <name>: the component answers its health endpoint.
healthy() {
	case $1 in
	etcd) etcd_health ;;
	kube-apiserver) [[ -f $KUBECONFIG_FILE ]] && kubectl_ get --raw /readyz >/dev/null 2>&1 ;;
	kube-controller-manager) kcm_health ;;
	esac
}

# kcm_health: /healthz answers (its serving cert is self-signed) and lists the garbage collector
# and the namespace controller, so nothing else on that port can pass for it.
kcm_health() {
	local checks
	[[ -f $KUBECONFIG_FILE ]] || return 1
	checks=$(kubectl_ --server "https://127.0.0.1:$KCM_PORT" --insecure-skip-tls-verify \
		get --raw '/healthz?verbose' 2>/dev/null) || return 1
	grep -q '^\[+\]garbage-\{0,1\}collector' <<<"$checks" && grep -q '^\[+\]namespace' <<<"$checks"
}

# etcd_health: GET /health over plain HTTP with bash alone (no curl needed).
etcd_health() {
	local reply
	reply=$(
		exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$ETCD_PORT" || exit 1
		printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		if command -v timeout >/dev/null; then timeout 5 cat <&3; else cat <&3; fi
	) || return 1
	[[ $reply == *'"health":"true"'* ]]
}

# fail <name> <why>: print why, the component's last log lines, and exit non-zero.
fail() {
	local name=$1 why=$2
	log "$name $why; last lines of $DIR/$name.log:"
	tail -n 30 "$DIR/$name.log" >&2 2>/dev/null || true
	exit 1
}

# wait_healthy <name> [soft]: wait until it answers. When the process is gone, fail, or with
# soft return 1 (a component found running may have been shutting down: start it again).
wait_healthy() {
	local name=$1 soft=${2:-} deadline=$((SECONDS + TIMEOUT))
	until healthy "$name"; do
		if ! pid_of "$name" >/dev/null; then
			[[ -n $soft ]] && return 1
			fail "$name" "exited"
		fi
		((SECONDS < deadline)) || fail "$name" "is running but not healthy after ${TIMEOUT}s"
		sleep 0.5
	done
}

# ensure <name> <command...>: leave it be when it runs and answers, else start it and wait.
ensure() {
	local name=$1
	if pid_of "$name" >/dev/null && wait_healthy "$name" soft; then
		return 0
	fi
	start "$@"
	wait_healthy "$name"
}

# start <name> <command...>: start it in its own session unless it runs; keep the previous log.
start() {
	local name=$1; shift
	pid_of "$name" >/dev/null && return 0
	[[ -f $DIR/$name.log ]] && mv -f "$DIR/$name.log" "$DIR/$name.log.prev"
	log "starting $name"
	if command -v setsid >/dev/null; then
		setsid "$@" </dev/null >"$DIR/$name.log" 2>&1 &
	else
		nohup "$@" </dev/null >"$DIR/$name.log" 2>&1 &
	fi
	local pid=$! argv0=
	echo "$pid" >"$DIR/$name.pid"
	# Until it has exec'd, the child is still this shell (or setsid): wait so pid_of can tell.
	for _ in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null || [[ ! -r /proc/$pid/cmdline ]]; then break; fi
		IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" || true
		[[ ${argv0##*/} == "$name" ]] && break
		sleep 0.05
	done
}

# controllers: the --controllers value for this kube-controller-manager: every default controller
# except the node/cloud ones it knows, read from its --help so a version bump cannot break it.
controllers() {
	local help known c value='*'
	help=$("$BIN/kube-controller-manager" --help 2>&1) || true
	known=$(sed -n 's/^ *All controllers: *//p' <<<"$help" | tr -d ' ' | tr ',' '\n')
	if [[ -z $known ]]; then
		log "could not read the known controllers from 'kube-controller-manager --help'; enabling '*'"
	fi
	for c in "${NODE_OR_CLOUD_CONTROLLERS[@]}"; do
		grep -qxF -- "$c" <<<"$known" && value+=",-$c"
	done
	echo "$value"
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

up() {
	local c pki=$DIR/pki
	for c in etcd kube-apiserver kube-controller-manager kubectl; do
		[[ -x $BIN/$c ]] || { log "missing $BIN/$c: run hack/build-controlplane.sh (make controlplane)"; exit 1; }
	done
	mkdir -p "$DIR"
	certs
	# One at a time: each needs the one before it to answer.
	ensure etcd "$BIN/etcd" --data-dir "$DIR/etcd" --name local \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
		--initial-cluster "local=http://127.0.0.1:$((ETCD_PORT + 1))" --unsafe-no-fsync
	ensure kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
		--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
		--client-ca-file "$pki/ca.crt" --authorization-mode RBAC \
		--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
		--service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
		--cert-dir "$DIR/certs" --endpoint-reconciler-type none
	ensure kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
		--authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
		--bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
		--service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
		--cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
		--controllers "$(controllers)"
	# A component may have died while the next one started: check them all once more.
	for c in "${COMPONENTS[@]}"; do
		pid_of "$c" >/dev/null || fail "$c" "exited"
		healthy "$c" || fail "$c" "is running but not healthy"
	done
	cat >&2 <<MSG
[local-cluster] running: etcd (127.0.0.1:$ETCD_PORT), kube-apiserver (https://127.0.0.1:$API_PORT), kube-controller-manager (127.0.0.1:$KCM_PORT)
  export KUBECONFIG=$KUBECONFIG_FILE
  $BIN/kubectl get ns
  stop it with: make cluster-down
MSG
}

status() {
	local c pid rc=0
	for c in "${COMPONENTS[@]}"; do
		if ! pid=$(pid_of "$c"); then
			printf '%-24s not running   (log: %s)\n' "$c" "$DIR/$c.log"
			rc=1
		elif healthy "$c"; then
			printf '%-24s healthy       (pid %s)\n' "$c" "$pid"
		else
			printf '%-24s unhealthy     (pid %s, log: %s)\n' "$c" "$pid" "$DIR/$c.log"
			rc=1
		fi
	done
	return "$rc"
}

down() {
	local name pid
	for name in kube-controller-manager kube-apiserver etcd; do
		if pid=$(pid_of "$name"); then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$DIR/$name.pid"
	done
	log "stopped"
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
