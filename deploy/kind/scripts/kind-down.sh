#!/usr/bin/env bash
# Stop everything kind-up.sh started: the cluster (its node container and everything in it), the
# route to Services, kind's Docker network when nothing else uses it; then restore the kernel
# settings recorded before the cluster started. Safe to run twice, or after a failed kind-up.
source "$(dirname "$0")/lib.sh"

CLUSTER=${KIND_CLUSTER:-user-service}
export KUBECONFIG=${KUBECONFIG:-$KIND_STATE/kubeconfig}
export PATH="$KIND_DIR/scripts/docker-shim:$PATH"
status=0

kind_bin="$(cached kind "$KIND_VERSION")/bin/kind"
if [[ -x $kind_bin ]] && "$kind_bin" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  # The evidence that nothing was pulled: containerd logs every CRI PullImage request.
  if /usr/bin/docker exec "$CLUSTER-control-plane" journalctl --unit=containerd --no-pager \
    >"$KIND_STATE/containerd.log" 2>&1; then
    pulls=$(grep -c 'PullImage' "$KIND_STATE/containerd.log" || true)
    log "image pulls requested of the node's containerd: $pulls (log in $KIND_STATE/containerd.log)"
  fi
  timed "kind delete cluster" "$kind_bin" delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG" || status=1
fi
if [[ -f "$KIND_STATE/routes" ]]; then
  while read -r route; do
    # shellcheck disable=SC2086
    ip route del $route 2>/dev/null || true
  done <"$KIND_STATE/routes"
  rm -f "$KIND_STATE/routes"
fi
if /usr/bin/docker network inspect kind >/dev/null 2>&1 &&
  [[ $(/usr/bin/docker network inspect --format '{{len .Containers}}' kind) == 0 ]]; then
  /usr/bin/docker network rm kind >/dev/null || status=1
fi
if [[ -f "$KIND_STATE/sysctl.before" ]]; then
  sysctl -q -p "$KIND_STATE/sysctl.before" || status=1
  log "kernel settings restored: $(sysctl kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.conf.all.route_localnet | tr '\n' ' ')"
  rm -f "$KIND_STATE/sysctl.before"
fi
exit $status
