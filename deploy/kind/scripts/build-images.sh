#!/usr/bin/env bash
# Build every image the local cluster runs, without a registry, into the cache as `docker save`
# archives, then the Kind node image that carries them all (imported into containerd by a
# systemd unit before the kubelet starts).
#
#   deploy/kind/scripts/build-images.sh      (needs build-binaries.sh first, and dockerd)
#
# Root file systems come from Debian's packages (debootstrap, from the mirror apt already uses);
# the Go programs are the static binaries of build-binaries.sh. An image already in the cache is
# not rebuilt; the node image is rebuilt when any image it carries changed.
source "$(dirname "$0")/lib.sh"

DOCKER=${DOCKER:-/usr/bin/docker}
IMAGES="$KIND_CACHE/images"
mkdir -p "$IMAGES"

bin() { printf '%s/bin/%s' "$(cached "$1" "$2")" "$3"; }

# The Debian mirror apt is configured with (deb822 or one-line format), unless DEBIAN_MIRROR is set.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "$DEBIAN_MIRROR"
  elif [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources
  else
    awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list
  fi
}

# rootfs NAME PACKAGES [SUITE]: a debootstrapped Debian root file system (minbase plus
# PACKAGES), cached under a name that includes a hash of the package list.
rootfs() {
  local name=$1 packages=$2 suite=${3:-$DEBIAN_SUITE} dir
  dir="$KIND_CACHE/rootfs-$name-$suite-$(printf '%s' "$packages" | sha256sum | cut -c1-8)"
  if ! is_built "$dir"; then
    rm -rf "$dir"
    log "rootfs $name: debootstrap $suite + $packages"
    timed "rootfs $name" low debootstrap --variant=minbase --include="$packages" \
      "$suite" "$dir" "$(debian_mirror)" >"$KIND_CACHE/debootstrap-$name.log"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    mark_built "$dir"
  fi
  printf '%s' "$dir"
}

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# import_dir NAME:TAG DIR [--change ...]: a single-layer image of DIR, saved to the cache.
import_dir() {
  local image=$1 dir=$2 archive
  shift 2
  archive="$IMAGES/$(tr '/:' '__' <<<"$image").tar"
  if [[ -f $archive ]]; then
    have_image "$image" || "$DOCKER" load --input "$archive" >/dev/null
    return
  fi
  log "image $image"
  tar --numeric-owner --exclude=./.done -C "$dir" -c . | "$DOCKER" import "$@" - "$image" >/dev/null
  "$DOCKER" save --output "$archive.tmp" "$image"
  mv "$archive.tmp" "$archive"
}

# static_image NAME TAG [PATH_IN_IMAGE=BINARY...] [-- --change ...]: static binaries on an
# almost empty file system (root and nobody users, /tmp, CA certificates from the host).
static_image() {
  local image dir
  image=$(local_image "$1" "$2")
  shift 2
  dir=$(mktemp -d)
  mkdir -p "$dir/etc" "$dir/tmp" "$dir/usr/local/bin" "$dir/etc/ssl/certs"
  chmod 1777 "$dir/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/etc/group"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
  while [[ $# -gt 0 && $1 != -- ]]; do
    install -D -m 0755 "${1#*=}" "$dir/${1%%=*}"
    shift
  done
  [[ ${1:-} == -- ]] && shift
  import_dir "$image" "$dir" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$@"
  rm -rf "$dir"
}

pause_image() {
  local dir
  dir=$(mktemp -d)
  # The sandbox's first process: sleeps until a signal, reaps nothing (a pod shares no PID
  # namespace by default). As small as kubernetes' own build/pause/linux/pause.c needs to be.
  cat >"$dir/pause.c" <<'C'
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  for (;;) pause();
}
C
  gcc -Os -static -o "$dir/pause" "$dir/pause.c"
  strip "$dir/pause"
  static_image pause "$PAUSE_VERSION" "pause=$dir/pause" -- --change 'ENTRYPOINT ["/pause"]'
  rm -rf "$dir"
}

# iptables-wrapper, as in kubernetes' own kube-proxy image: use the iptables mode (legacy or
# nft) the kubelet on this node used, found by its KUBE-IPTABLES-HINT chain.
IPTABLES_WRAPPER='#!/bin/sh
mode=nft
if iptables-legacy-save -t mangle 2>/dev/null | grep -q KUBE-IPTABLES-HINT; then mode=legacy; fi
for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "/usr/sbin/xtables-$mode-multi" "/usr/sbin/$tool"
done
exec "$0" "$@"'

# iptables_image NAME TAG ROOTFS BINARY: BINARY in /usr/local/bin of a copy of ROOTFS, whose
# iptables tools go through IPTABLES_WRAPPER.
iptables_image() {
  local dir
  dir=$(mktemp -d)
  cp -a "$3/." "$dir/"
  install -m 0755 "$4" "$dir/usr/local/bin/$(basename "$4")"
  for tool in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    rm -f "$dir/usr/sbin/$tool"
    printf '%s\n' "$IPTABLES_WRAPPER" >"$dir/usr/sbin/$tool"
    chmod 0755 "$dir/usr/sbin/$tool"
  done
  import_dir "$(local_image "$1" "$2")" "$dir"
  rm -rf "$dir"
}

kube_proxy_image() {
  iptables_image kube-proxy "$KUBERNETES_VERSION" "$(rootfs base "$BASE_PACKAGES")" \
    "$(bin kubernetes "$KUBERNETES_VERSION" kube-proxy)"
}

# kube-router's firewall (the NetworkPolicy enforcer) programs iptables and ipset.
kube_router_image() {
  iptables_image kube-router "$KUBE_ROUTER_VERSION" "$(rootfs netpol "$NETPOL_PACKAGES")" \
    "$(bin kube-router "$KUBE_ROUTER_VERSION" kube-router)"
}

# PostgreSQL and PgBouncer from Debian's packages, one file system, two images (DATABASE_SUITE:
# CloudNativePG configures PgBouncer with auth_dbname, which PgBouncer has since 1.19; bookworm
# has 1.18, trixie 1.24, with PostgreSQL 17 like the chart's default image). CloudNativePG
# runs PostgreSQL as UID/GID 26 and PgBouncer as 998/996, and initdb needs its user in
# /etc/passwd; it reads the major version from the image's tag.
database_images() {
  local db dir pg_version pgb_version major
  db=$(rootfs database "$DATABASE_PACKAGES" "$DATABASE_SUITE")
  major=$(ls "$db/usr/lib/postgresql")
  pg_version=$(chroot "$db" dpkg-query -W -f '${Version}' "postgresql-$major" | sed 's/[-+~].*//')
  pgb_version=$(chroot "$db" dpkg-query -W -f '${Version}' pgbouncer | sed 's/[-+~].*//')
  printf '%s' "$pg_version" >"$IMAGES/postgresql.version"
  printf '%s' "$pgb_version" >"$IMAGES/pgbouncer.version"
  if [[ -f "$IMAGES/$(tr '/:' '__' <<<"$(local_image postgresql "$pg_version")").tar" ]] &&
    [[ -f "$IMAGES/$(tr '/:' '__' <<<"$(local_image pgbouncer "$pgb_version")").tar" ]]; then
    have_image "$(local_image postgresql "$pg_version")" || import_dir "$(local_image postgresql "$pg_version")" /nonexistent
    have_image "$(local_image pgbouncer "$pgb_version")" || import_dir "$(local_image pgbouncer "$pgb_version")" /nonexistent
    return
  fi
  dir=$(mktemp -d)
  cp -a "$db/." "$dir/"
  rm -rf "$dir/etc/postgresql/$major/main" "$dir/var/lib/postgresql/$major/main"
  sed -i 's/^postgres:x:[0-9]*:[0-9]*:/postgres:x:26:26:/' "$dir/etc/passwd"
  sed -i 's/^postgres:x:[0-9]*:/postgres:x:26:/' "$dir/etc/group"
  printf 'pgbouncer:x:998:996:PgBouncer:/var/lib/pgbouncer:/bin/sh\n' >>"$dir/etc/passwd"
  printf 'pgbouncer:x:996:\n' >>"$dir/etc/group"
  mkdir -p "$dir/var/lib/pgbouncer"
  # CloudNativePG runs /usr/bin/pgbouncer; Debian installs it in /usr/sbin.
  ln -sf ../sbin/pgbouncer "$dir/usr/bin/pgbouncer"
  chown -R 26:26 "$dir/var/lib/postgresql" "$dir/var/run/postgresql"
  chown -R 998:996 "$dir/var/lib/pgbouncer"
  import_dir "$(local_image postgresql "$pg_version")" "$dir" \
    --change "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'ENV LANG=C.UTF-8' --change 'USER 26'
  import_dir "$(local_image pgbouncer "$pgb_version")" "$dir" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'USER 998'
  rm -rf "$dir"
}

# The helper pod of local-path-provisioner creates and removes volume folders with sh.
helper_image() {
  import_dir "$(local_image debian "$DEBIAN_SUITE")" "$(rootfs base "$BASE_PACKAGES")"
}

component_images() {
  local k=$KUBERNETES_VERSION
  pause_image
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    static_image "$c" "$k" "usr/local/bin/$c=$(bin kubernetes "$k" "$c")"
  done
  kube_proxy_image
  kube_router_image
  static_image etcd "${ETCD_VERSION#v}-0" "usr/local/bin/etcd=$(bin etcd "$ETCD_VERSION" v3)"
  static_image coredns "$COREDNS_VERSION" "coredns=$(bin coredns "$COREDNS_VERSION" coredns)" \
    -- --change 'ENTRYPOINT ["/coredns"]'
  static_image local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" \
    "usr/local/bin/local-path-provisioner=$(bin local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" local-path-provisioner)" \
    -- --change 'ENTRYPOINT ["local-path-provisioner"]'
  static_image metrics-server "$METRICS_SERVER_VERSION" \
    "metrics-server=$(bin metrics-server "$METRICS_SERVER_VERSION" metrics-server)" \
    -- --change 'ENTRYPOINT ["/metrics-server"]' --change 'USER 65534'
  # The operator finds the architectures it can serve from operator/manager_<arch> files.
  static_image cloudnative-pg "${CNPG_VERSION#v}" "manager=$(bin cnpg "$CNPG_VERSION" manager)" \
    "operator/manager_$(go env GOARCH)=$(bin cnpg "$CNPG_VERSION" manager)" \
    -- --change 'ENTRYPOINT ["/manager"]' --change 'USER 10001'
  database_images
  helper_image
}

NODE_PACKAGES="systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,socat,ethtool,kmod,iproute2,procps,util-linux,mount,ca-certificates,libseccomp2,ebtables,bash,jq,pigz"
BASE_PACKAGES="iptables,conntrack,ca-certificates"
NETPOL_PACKAGES="iptables,ipset,conntrack,ca-certificates"
DATABASE_PACKAGES="postgresql,pgbouncer,ca-certificates,locales-all"
node_rootfs() { rootfs node "$NODE_PACKAGES"; }
# The archives the node carries: every component image, not the node itself nor the Python base.
node_images() { find "$IMAGES" -maxdepth 1 -name '*.tar' ! -name '*_node_*' ! -name '*_python_*' | sort; }

node_image() {
  local base dir kind_files image archive stamp
  image=$(local_image node "$KUBERNETES_VERSION")
  archive="$IMAGES/$(tr '/:' '__' <<<"$image").tar"
  # The node image's identity: every input's name, size and time, so a rebuilt image rebuilds it.
  stamp=$(node_images | xargs stat --format '%n %s %Y' | sha256sum | cut -c1-12)
  stamp+=$(cat "$KIND_DIR"/node/* "$KIND_DIR/versions.env" | sha256sum | cut -c1-12)
  if [[ -f $archive && $(cat "$archive.stamp" 2>/dev/null) == "$stamp" ]]; then
    have_image "$image" || "$DOCKER" load --input "$archive" >/dev/null
    return
  fi
  rm -f "$archive"
  base=$(node_rootfs)
  dir=$(mktemp -d)
  timed "node rootfs copy" cp -a "$base/." "$dir/"
  kind_files="$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files"
  cp -r "$kind_files/." "$dir/"
  # Module zips keep no file modes: kind's scripts must be made executable again.
  chmod -R u+w "$dir/etc" "$dir/kind" "$dir/usr/local/bin"
  chmod 0755 "$dir/usr/local/bin/entrypoint" "$dir/usr/local/bin/clean-install" "$dir"/kind/bin/*.sh
  rm -f "$dir/etc/systemd/system/containerd-fuse-overlayfs.service"
  # Debian's containerd is /usr/bin/containerd.
  sed -i 's#^ExecStart=/usr/local/bin/containerd#ExecStart=/usr/bin/containerd#' "$dir/etc/systemd/system/containerd.service"
  install -m 0644 "$KIND_DIR/node/containerd-config.toml" "$dir/etc/containerd/config.toml"
  sed -i "s#@PAUSE_IMAGE@#$(local_image pause "$PAUSE_VERSION")#" "$dir/etc/containerd/config.toml"
  ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
    >"$dir/etc/containerd/cri-base.json"
  install -D -m 0644 "$KIND_DIR/node/10-bridge.conflist" "$dir/etc/cni/net.d/10-bridge.conflist"
  install -m 0644 "$KIND_DIR/node/preload-images.service" "$dir/etc/systemd/system/preload-images.service"
  install -D -m 0644 "$KIND_DIR/node/12-preload-images.conf" "$dir/etc/systemd/system/kubelet.service.d/12-preload-images.conf"
  install -m 0755 "$KIND_DIR/node/entrypoint-unprivileged" "$dir/usr/local/bin/entrypoint-unprivileged"
  # As kind's base image does: no units but ours, no kernel log reading, systemd as /sbin/init.
  rm -f "$dir"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
    "$dir"/lib/systemd/system/multi-user.target.wants/* "$dir"/etc/systemd/system/*.wants/* \
    "$dir"/lib/systemd/system/local-fs.target.wants/* "$dir"/lib/systemd/system/sockets.target.wants/*udev* \
    "$dir"/lib/systemd/system/sockets.target.wants/*initctl* "$dir"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$dir/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "$dir/sbin/init"
  mkdir -p "$dir/etc/systemd/system/multi-user.target.wants" "$dir/etc/kubernetes/manifests" "$dir/etc/cni/net.d"
  for unit in containerd kubelet undo-mount-hacks preload-images; do
    ln -sf "/etc/systemd/system/$unit.service" "$dir/etc/systemd/system/multi-user.target.wants/$unit.service"
  done
  # Kubernetes' binaries; crictl; the storage class manifest kind applies.
  for b in kubelet kubeadm kubectl; do
    install -m 0755 "$(bin kubernetes "$KUBERNETES_VERSION" "$b")" "$dir/usr/bin/$b"
  done
  install -m 0755 "$(bin crictl "$CRICTL_VERSION" crictl)" "$dir/usr/local/bin/crictl"
  mkdir -p "$dir/kind/manifests" "$dir/kind/images"
  printf '%s' "$KUBERNETES_VERSION" >"$dir/kind/version"
  storage_manifest >"$dir/kind/manifests/default-storage.yaml"
  node_images | xargs cp --target-directory="$dir/kind/images/"
  echo 'kind-local' >"$dir/etc/hostname"
  timed "node image" import_dir "$image" "$dir" \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint-unprivileged", "/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change 'ENV container=docker'
  printf '%s' "$stamp" >"$archive.stamp"
  rm -rf "$dir"
}

# kind applies /kind/manifests/default-storage.yaml (without it, a manifest naming published
# images): local-path-provisioner's own manifest from its module, on the local images, its class
# the default one.
storage_manifest() {
  sed -e "s#image: .*local-path-provisioner:.*#image: $(local_image local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION")#" \
    -e "s#image: busybox#image: $(local_image debian "$DEBIAN_SUITE")#" \
    -e 's#^  name: local-path$#  name: local-path\n  annotations:\n    storageclass.kubernetes.io/is-default-class: "true"#' \
    "$(module_dir "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION")/deploy/local-path-storage.yaml"
}

# The root file systems alone (they need no Go binaries).
if [[ ${1:-} == --rootfs ]]; then
  rootfs base "$BASE_PACKAGES" >/dev/null
  rootfs netpol "$NETPOL_PACKAGES" >/dev/null
  rootfs database "$DATABASE_PACKAGES" "$DATABASE_SUITE" >/dev/null
  node_rootfs >/dev/null
  exit 0
fi
"$DOCKER" info >/dev/null 2>&1 || die "dockerd is not running ($DOCKER info failed)"
timed "component images" component_images
node_image
log "images in $IMAGES: $(du -sh "$IMAGES" | cut -f1)"
