#!/usr/bin/env bash
# Build the pinned Go programs of the local Kubernetes stack into the cache, one at a time and at
# the lowest priority; a component already built at its pin is skipped in milliseconds.
#
#   deploy/kind/scripts/build-binaries.sh [COMPONENT...]   (default: all of them)
#
# Each component is a throw-away local module that requires the pinned module and blank-imports
# its commands, then `go mod tidy` and `go build` (a plain `go install mod@ver` trips over the
# filtered module proxy's refusals, and cannot build k8s.io/kubernetes at all: its go.mod replaces
# its 31 staging modules with folders, so this module replaces them with the published v0.x.y).
# Everything is built with CGO_ENABLED=0: static binaries that run in images with no libc.
source "$(dirname "$0")/lib.sh"

export CGO_ENABLED=0 GOFLAGS=-mod=mod

# go_component NAME MODULE VERSION EXTRA_GO_MOD LDFLAGS PACKAGE...
go_component() {
  local name=$1 module=$2 version=$3 extra=$4 ldflags=$5
  shift 5
  local dir
  dir=$(cached "$name" "$version")
  if is_built "$dir"; then
    log "$name $version: cached in $dir"
    return
  fi
  log "$name $version: building into $dir"
  rm -rf "$dir"
  mkdir -p "$dir/src" "$dir/bin"
  {
    printf 'module local.build/%s\n\ngo 1.24\n\nrequire %s %s\n%s\n' "$name" "$module" "$version" "$extra"
  } >"$dir/src/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } >"$dir/src/tools.go"
  (cd "$dir/src" && timed "$name: go mod tidy" low go mod tidy)
  local package
  for package in "$@"; do
    (cd "$dir/src" && timed "$name: build $(basename "$package")" \
      low go build -trimpath -ldflags "-s -w $ldflags" -o "$dir/bin/$(basename "$package")" "$package")
  done
  mark_built "$dir"
}

kubernetes() {
  local v=$KUBERNETES_VERSION staging replaces minor
  # The staging modules are versioned v0.<minor>.<patch> alongside v1.<minor>.<patch>.
  staging="v0.${v#v1.}"
  replaces=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' \
    "$(module_dir "k8s.io/kubernetes@$v")/go.mod" | sort -u | awk -v s="$staging" '{ printf "replace %s => %s %s\n", $1, $1, s }')
  minor=$(cut -d. -f2 <<<"$v")
  local ld=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ld+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  go_component kubernetes k8s.io/kubernetes "$v" "$replaces" "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubeadm
}
etcd() { go_component etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "" "" go.etcd.io/etcd/server/v3; }
kind() { go_component kind sigs.k8s.io/kind "$KIND_VERSION" "" "" sigs.k8s.io/kind; }
crictl() { go_component crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" "" "" sigs.k8s.io/cri-tools/cmd/crictl; }
coredns() { go_component coredns github.com/coredns/coredns "$COREDNS_VERSION" "" "" github.com/coredns/coredns; }
local-path-provisioner() {
  go_component local-path-provisioner github.com/rancher/local-path-provisioner \
    "$LOCAL_PATH_PROVISIONER_VERSION" "" "" github.com/rancher/local-path-provisioner
}
metrics-server() {
  go_component metrics-server sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" "" "" \
    sigs.k8s.io/metrics-server/cmd/metrics-server
}
cnpg() {
  go_component cnpg github.com/cloudnative-pg/cloudnative-pg "$CNPG_VERSION" "" "" \
    github.com/cloudnative-pg/cloudnative-pg/cmd/manager
}
kube-router() {
  go_component kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" "" "" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}

# Tilt cannot be built as a dependency with its replace directives ignored (it needs its forks of
# `browser` and `fsutil`): the local module is Tilt's own go.mod and go.sum, renamed, plus a
# requirement of Tilt itself. Two of its pseudo-versions are unknown to the checksum database.
tilt() {
  local dir src
  dir=$(cached tilt "$TILT_VERSION")
  if is_built "$dir"; then
    log "tilt $TILT_VERSION: cached in $dir"
    return
  fi
  log "tilt $TILT_VERSION: building into $dir"
  rm -rf "$dir"
  mkdir -p "$dir/src" "$dir/bin"
  src=$(module_dir "github.com/tilt-dev/tilt@$TILT_VERSION")
  sed 's#^module .*#module local.build/tilt#' "$src/go.mod" >"$dir/src/go.mod"
  printf '\nrequire github.com/tilt-dev/tilt %s\n' "$TILT_VERSION" >>"$dir/src/go.mod"
  cp "$src/go.sum" "$dir/src/go.sum"
  chmod u+w "$dir/src/go.mod" "$dir/src/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/tilt-dev/tilt/cmd/tilt"\n' >"$dir/src/tools.go"
  (cd "$dir/src" && GONOSUMDB=github.com/tilt-dev timed "tilt: build" low go build -trimpath \
    -ldflags "-s -w" -o "$dir/bin/tilt" github.com/tilt-dev/tilt/cmd/tilt)
  mark_built "$dir"
}

components=("$@")
if [[ ${#components[@]} -eq 0 ]]; then
  components=(kubernetes etcd kind crictl coredns cnpg local-path-provisioner metrics-server kube-router)
fi
for component in "${components[@]}"; do
  "$component"
done
