#!/usr/bin/env bash
# Two networks on Kubernetes, by hand (docs/demo.md, "On Kubernetes"): AS64500 and AS64501, each in its own
# namespace with the chart's ServiceAccount and RBAC (release peering-operator), each operator run as that
# ServiceAccount with a kubeconfig made from `kubectl create token`, outside the cluster (as a developer runs it).
# AS64500 asks AS64501 for a session through AS64501's Peering API; both sides show it in `kubectl get`; then it
# de-peers. Needs: a cluster in the current kubeconfig (any: kind, minikube, or the test suite's API server), kubectl,
# helm, node, and the project built (npm run build).
#
#   scripts/demo-kubernetes.sh [--keep]      --keep leaves the namespaces and the work folder for a look around
#
# HELM, KUBECTL and WORK_DIR override the helm and kubectl binaries and the work folder. No routers are
# configured (--router none): the sessions say Configured=False with reason NoRouter, as they should; Routers and
# agents are docs/router-agent.md.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM=${HELM:-helm}
KUBECTL=${KUBECTL:-kubectl}
KEEP=false
[[ ${1:-} == --keep ]] && KEEP=true
WORK=${WORK_DIR:-$(mktemp -d /tmp/peering-k8s-demo-XXXX)}
mkdir -p "$WORK"
CLI=(node dist/controller/src/cli/peering-operator.js)
[[ -f dist/controller/src/cli/peering-operator.js ]] || { echo "build first: npm run build" >&2; exit 2; }

say() { printf '\n== %s\n' "$*"; }
show() {
	printf '$ %s\n' "$*"
	"$@"
}
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ $KEEP == false ]]; then
		"$KUBECTL" delete namespace as64500 as64501 --wait=false >/dev/null 2>&1 || true
		rm -rf "$WORK"
	else
		echo "kept: namespaces as64500, as64501; files in $WORK"
	fi
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
token_of() { printf 'demo-token-held-by-as%s-0123456789' "$1"; }

say "1. The CRDs (server-side: they are large)"
show "$KUBECTL" apply --server-side --force-conflicts -f crds/

server=$("$KUBECTL" config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$("$KUBECTL" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
declare -A API
for asn in 64500 64501; do API[$asn]=$(free_port); done

for asn in 64500 64501; do
	ns=as$asn
	peer=$((asn == 64500 ? 64501 : 64500))
	say "2. AS$asn: namespace $ns, and the chart's ServiceAccount and RBAC for release peering-operator"
	"$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
	values=(--set "config.asns={$asn}" --set "config.apiUrl=http://127.0.0.1:${API[$asn]}/v0.1"
		--set config.peeringdb.dataDir=/srv/peeringdb --set router.driver=none)
	echo "\$ $HELM template peering-operator charts/peering-operator -n $ns ${values[*]} --show-only templates/serviceaccount.yaml --show-only templates/rbac.yaml > $WORK/$ns-rbac.yaml"
	"$HELM" template peering-operator charts/peering-operator -n "$ns" "${values[@]}" \
		--show-only templates/serviceaccount.yaml --show-only templates/rbac.yaml >"$WORK/$ns-rbac.yaml"
	show "$KUBECTL" apply -n "$ns" -f "$WORK/$ns-rbac.yaml"

	say "3. AS$asn: a kubeconfig for that ServiceAccount (a short-lived token, nothing stored in the cluster)"
	token=$("$KUBECTL" -n "$ns" create token peering-operator --duration=2h)
	echo "\$ $KUBECTL -n $ns create token peering-operator --duration=2h   # → $WORK/$ns.kubeconfig"
	cat >"$WORK/$ns.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{ name: demo, cluster: { server: "$server", certificate-authority-data: "$ca" } }]
users: [{ name: peering-operator, user: { token: "$token" } }]
contexts: [{ name: $ns, context: { cluster: demo, user: peering-operator, namespace: $ns } }]
current-context: $ns
EOF
	chmod 600 "$WORK/$ns.kubeconfig"
	# What the chart's ConfigMap holds, for a process on this machine: PeeringDB from the repository's fixture,
	# the other network's static token (the chart takes it from a Secret through tokenEnv).
	cat >"$WORK/$ns.yaml" <<EOF
asns: [$asn]
apiUrl: http://127.0.0.1:${API[$asn]}/v0.1
listen: 127.0.0.1:${API[$asn]}
peeringdb: { dataDir: $PWD/examples/peeringdb }
store: { dataDir: $WORK/$ns-store }
policy: { approval: auto, timeWindow: 7d }
auth:
  issuers: []
  staticTokens:
    - { token: $(token_of "$peer"), subject: noc-as$peer, networks: [{ asn: $peer, perms: 15 }] }
EOF
	say "4. AS$asn: the operator, as that ServiceAccount (leader election on a Lease in $ns)"
	echo "\$ ${CLI[*]} run --config $WORK/$ns.yaml --kubeconfig $WORK/$ns.kubeconfig --watch-namespace $ns --inbound-namespace $ns --lease-namespace $ns --leader-elect --router none"
	"${CLI[@]}" run --config "$WORK/$ns.yaml" --kubeconfig "$WORK/$ns.kubeconfig" --watch-namespace "$ns" \
		--inbound-namespace "$ns" --lease-namespace "$ns" --leader-elect --identity "$ns-demo" --router none \
		--health-listen 127.0.0.1:0 --log-level warn >"$WORK/$ns.log" 2>&1 &
	pids+=($!)
done

for asn in 64500 64501; do
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:${API[$asn]}/v0.1/locations" -H "authorization: Bearer $(token_of $((asn == 64500 ? 64501 : 64500)))" && break
		sleep 0.2
	done
done

say "5. AS64500 asks AS64501: the token AS64501 issued to it in a Secret, and a PeeringRequest"
show "$KUBECTL" -n as64500 create secret generic peer-as64501 --from-literal=token="$(token_of 64500)"
cat >"$WORK/request.yaml" <<EOF
apiVersion: peering.autopeer.dev/v1alpha1
kind: PeeringRequest
metadata: { name: as64501, namespace: as64500 }
spec:
  localAsn: 64500
  peerAsn: 64501
  peerApiUrl: http://127.0.0.1:${API[64501]}/v0.1
  credentials: { bearerTokenSecretRef: { name: peer-as64501, key: token } }
  sessions:
    - { location: pdb:ix:1, localIp: 192.0.2.1, peerIp: 192.0.2.2, localBgpRole: 4, peerBgpRole: 4 }
EOF
cat "$WORK/request.yaml"
show "$KUBECTL" apply -f "$WORK/request.yaml"
show "$KUBECTL" -n as64500 wait peeringrequest/as64501 --for=jsonpath='{.status.sessionCounts.accepted}'=1 --timeout=60s
show "$KUBECTL" -n as64501 wait peeringsessions --all --for=jsonpath='{.status.state}'=approved --timeout=60s

say "6. Both sides, in kubectl"
show "$KUBECTL" -n as64500 get peeringrequests,peeringsessions -o wide
show "$KUBECTL" -n as64501 get peeringrequests,peeringsessions -o wide
show "$KUBECTL" -n as64501 get events --field-selector involvedObject.kind=PeeringSession

say "7. AS64500 de-peers: deleting its request removes the session on both sides"
show "$KUBECTL" -n as64500 delete peeringrequest as64501 --timeout=60s
for _ in $(seq 1 100); do
	[[ -z $("$KUBECTL" -n as64501 get peeringsessions -o name) ]] && break
	sleep 0.2
done
left=$("$KUBECTL" -n as64501 get peeringsessions -o name | wc -l)
echo "AS64501 has $left PeeringSession(s) left; AS64500 has $("$KUBECTL" -n as64500 get peeringsessions -o name | wc -l)"
echo
echo "done: AS64500 and AS64501 peered and de-peered through their Peering APIs, each operator as its ServiceAccount"
