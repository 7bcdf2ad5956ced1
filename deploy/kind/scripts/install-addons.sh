#!/usr/bin/env bash
# Install a cluster add-on from the manifests of the very module its binary was built from, on
# the locally built image (KIND_SOURCE=local) or the published one (KIND_SOURCE=registry).
#
#   deploy/kind/scripts/install-addons.sh metrics-server|cnpg|netpol
#
# Idempotent (server-side apply); waits until the add-on is available.
source "$(dirname "$0")/lib.sh"

export KUBECONFIG=${KUBECONFIG:-$KIND_STATE/kubeconfig}
export PATH="$(cached kubernetes "$KUBERNETES_VERSION")/bin:$PATH"
KIND_SOURCE=${KIND_SOURCE:-$(cat "$KIND_STATE/source" 2>/dev/null || echo local)}

local_only() {
  if [[ $KIND_SOURCE == local ]]; then
    sed -e "s#image: .*#image: $1#" -e 's#imagePullPolicy: .*#imagePullPolicy: IfNotPresent#'
  else
    cat
  fi
}

metrics-server() {
  # The kubelet's serving certificate is self-signed in Kind: metrics-server may not verify it.
  kubectl kustomize "$(module_dir "sigs.k8s.io/metrics-server@$METRICS_SERVER_VERSION")/manifests/overlays/release" |
    sed 's#^\( *\)- --metric-resolution=15s#&\n\1- --kubelet-insecure-tls#' |
    local_only "$(local_image metrics-server "$METRICS_SERVER_VERSION")" |
    kubectl apply --server-side --force-conflicts -f - >/dev/null
  kubectl --namespace kube-system rollout status deployment/metrics-server --timeout=180s
}

cnpg() {
  local manifest images="$KIND_CACHE/images"
  manifest="$(module_dir "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION")/releases/cnpg-${CNPG_VERSION#v}.yaml"
  if [[ $KIND_SOURCE == local ]]; then
    local operator
    operator=$(local_image cloudnative-pg "${CNPG_VERSION#v}")
    # The operator copies itself into every PostgreSQL and PgBouncer pod (OPERATOR_IMAGE_NAME),
    # and creates Poolers on PGBOUNCER_IMAGE_NAME: both local.
    sed -e "s#^\( *\)image: .*cloudnative-pg:.*#\1image: $operator#" \
      -e "s#^\( *\)value: .*cloudnative-pg:.*#\1value: $operator#" \
      -e 's#imagePullPolicy: Always#imagePullPolicy: IfNotPresent#' "$manifest" |
      kubectl apply --server-side --force-conflicts -f - >/dev/null
    kubectl --namespace cnpg-system set env deployment/cnpg-controller-manager \
      "POSTGRES_IMAGE_NAME=$(local_image postgresql "$(cat "$images/postgresql.version")")" \
      "PGBOUNCER_IMAGE_NAME=$(local_image pgbouncer "$(cat "$images/pgbouncer.version")")" >/dev/null
  else
    kubectl apply --server-side --force-conflicts -f "$manifest" >/dev/null
  fi
  kubectl --namespace cnpg-system rollout status deployment/cnpg-controller-manager --timeout=300s
}

# kube-router's firewall, the NetworkPolicy enforcer (the bridge network plugin has none). Built
# here from its module in both sources (no published image is pinned for it).
netpol() {
  sed "s#image: kube-router#image: $(local_image kube-router "$KUBE_ROUTER_VERSION")#" \
    "$KIND_DIR/netpol.yaml" | kubectl apply --server-side --force-conflicts -f - >/dev/null
  kubectl --namespace kube-system rollout status daemonset/kube-router --timeout=180s
}

for addon in "$@"; do
  "$addon"
done
