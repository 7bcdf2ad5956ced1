#!/usr/bin/env bash
# Create the Kind cluster `user-service` and make it ready for the chart: local-path volumes (the
# default storage class), metrics-server, CloudNativePG's operator, kube-router's NetworkPolicy
# enforcement. `make kind-up` runs this.
#
#   KIND_SOURCE=local     (default) everything built here: no registry is ever contacted
#   KIND_SOURCE=registry  kind's published node image and the published operator manifest
#                         (a laptop or GitHub Actions, where a registry answers)
#
# The kubelet and kube-proxy change global kernel settings; they are recorded here before the
# cluster starts and restored by kind-down.sh (run here too when anything below fails).
source "$(dirname "$0")/lib.sh"
set -E # the ERR trap below holds in functions too

CLUSTER=${KIND_CLUSTER:-user-service}
KIND_SOURCE=${KIND_SOURCE:-local}
export KUBECONFIG=${KUBECONFIG:-$KIND_STATE/kubeconfig}
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.conf.all.route_localnet)

record_kernel_settings() {
  # Kept from the first kind-up until kind-down restores them: a second kind-up (after a failed
  # kind-down) must not record the cluster's values as the machine's.
  if [[ ! -f "$KIND_STATE/sysctl.before" ]]; then
    sysctl "${SYSCTLS[@]}" >"$KIND_STATE/sysctl.before"
    log "kernel settings recorded: $(tr '\n' ' ' <"$KIND_STATE/sysctl.before")"
  fi
}

on_failure() {
  log "kind-up failed; tearing down what it started"
  "$KIND_DIR/scripts/kind-down.sh" || true
}

main() {
  local start=$SECONDS
  log "source of images: $KIND_SOURCE ($([[ $KIND_SOURCE == local ]] && echo 'built here, no registry contacted' || echo "published images, pulled from their registries"))"
  printf '%s\n' "$KIND_SOURCE" >"$KIND_STATE/source"
  if [[ $KIND_SOURCE == local ]]; then
    "$KIND_DIR/scripts/build-binaries.sh"
    "$KIND_DIR/scripts/build-images.sh"
  else
    "$KIND_DIR/scripts/build-binaries.sh" kind kubernetes
  fi
  export PATH="$KIND_DIR/scripts/docker-shim:$(cached kubernetes "$KUBERNETES_VERSION")/bin:$PATH"
  local kind_bin
  kind_bin="$(cached kind "$KIND_VERSION")/bin/kind"
  if "$kind_bin" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    # Left by an earlier run (or made from another clone): this clone gets its kubeconfig and
    # the routes to it, so that what follows talks to that cluster.
    log "cluster $CLUSTER exists already: using it"
    "$kind_bin" export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
    cluster_routes
    return
  fi
  record_kernel_settings
  trap on_failure ERR
  local config="$KIND_STATE/cluster.yaml"
  if [[ $KIND_SOURCE == local ]]; then
    sed -e "s#@LOCAL_IMAGE_PREFIX@#$LOCAL_IMAGE_PREFIX#" -e "s#@ETCD_TAG@#${ETCD_VERSION#v}-0#" \
      -e "s#@COREDNS_VERSION@#$COREDNS_VERSION#" -e "s#^name: .*#name: $CLUSTER#" \
      "$KIND_DIR/cluster-local.yaml" >"$config"
    timed "kind create cluster" "$kind_bin" create cluster --config "$config" \
      --image "$(local_image node "$KUBERNETES_VERSION")" --kubeconfig "$KUBECONFIG" --wait 180s
  else
    sed -e "s#^name: .*#name: $CLUSTER#" "$KIND_DIR/cluster.yaml" >"$config"
    timed "kind create cluster" "$kind_bin" create cluster --config "$config" \
      --image "$KIND_PUBLISHED_NODE_IMAGE" --kubeconfig "$KUBECONFIG" --wait 180s
  fi
  cluster_routes
  timed "system pods ready" kubectl wait --namespace kube-system --for=condition=Ready pods --all --timeout=180s
  timed "metrics-server" "$KIND_DIR/scripts/install-addons.sh" metrics-server
  timed "CloudNativePG operator" "$KIND_DIR/scripts/install-addons.sh" cnpg
  # kind's published node image runs kindnet, which enforces NetworkPolicies itself.
  if [[ $KIND_SOURCE == local ]]; then
    timed "NetworkPolicy enforcer" "$KIND_DIR/scripts/install-addons.sh" netpol
  fi
  trap - ERR
  log "cluster $CLUSTER up in $((SECONDS - start)) s; KUBECONFIG=$KUBECONFIG"
}

# The host reaches Services at their ClusterIPs, and pods at theirs, through the node (kube-proxy's
# rules there), as a pod would: routes via the bridge kind made, removed by kind-down.sh.
cluster_routes() {
  local node_ip subnet
  node_ip=$(/usr/bin/docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$CLUSTER-control-plane")
  : >"$KIND_STATE/routes"
  # kind's default pod and Service networks (cluster-local.yaml names them; cluster.yaml keeps
  # kind's defaults). With several nodes, the first one forwards to the others' pods.
  for subnet in 10.244.0.0/16 10.96.0.0/16; do
    ip route replace "$subnet" via "$node_ip"
    printf '%s via %s\n' "$subnet" "$node_ip" >>"$KIND_STATE/routes"
  done
  log "routes to the cluster: $(tr '\n' ' ' <"$KIND_STATE/routes")"
}

main "$@"
