#!/usr/bin/env bash
# The base images the project runs on, with or without a container registry:
#
#   PYTHON_IMAGE      the Dockerfile's base (ARG PYTHON_IMAGE)    official python:3.11-slim-bookworm
#   POSTGRES_IMAGE    Compose's database and testcontainers'      official postgres:17-bookworm
#   PROMETHEUS_IMAGE  Compose's monitoring profile                official prom/prometheus:v3.5.0
#
# For each, in this order: USE_REGISTRY=1 takes the official image (pulled when missing: for
# machines that reach a registry); else the official image when it is already present here; else
# an equivalent built here from Debian packages (debootstrap --variant=minbase, then
# `docker import`) under its own tag, user-service-base/…. Without USE_REGISTRY=1 nothing here
# contacts a registry. A local image is rebuilt only when its recipe changed (see `recipe`), so a
# run with the images present takes seconds.
#
# The choice is logged and written to .cache/base-images.env (NAME=image lines), which the Makefile,
# the tests and `docker compose --env-file` read.
#
#   scripts/base-images.sh            all three
#   USE_REGISTRY=1 scripts/base-images.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# Debian's client (20.10) builds with BuildKit on its own; a newer one may need the buildx plugin.
docker=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
env_file=$root/.cache/base-images.env

log() { echo "base-images: $*" >&2; }

present() { "$docker" image inspect "$1" >/dev/null 2>&1; }

# debootstrap SUITE DIR PACKAGE...: a minimal Debian root in DIR with PACKAGEs installed, services
# kept from starting, documentation and package lists dropped.
bootstrap() {
  local suite=$1 dir=$2
  shift 2
  debootstrap --variant=minbase "$suite" "$dir" >"$dir.log" 2>&1 \
    || { tail -20 "$dir.log" >&2; return 1; }
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod +x "$dir/usr/sbin/policy-rc.d"
  mkdir -p "$dir/etc/postgresql-common"
  echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.conf"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  local status=0
  DEBIAN_FRONTEND=noninteractive chroot "$dir" sh -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends $* && apt-get clean" \
    >>"$dir.log" 2>&1 || status=$?
  umount "$dir/proc"
  if [[ $status != 0 ]]; then
    tail -20 "$dir.log" >&2
    return "$status"
  fi
  rm -rf "$dir/usr/sbin/policy-rc.d" "$dir"/var/lib/apt/lists/* "$dir"/usr/share/{doc,man,info}/* \
    "$dir"/var/log/*.log "$dir"/var/cache/debconf/*-old
  : >"$dir/etc/resolv.conf"
}

# recipe BUILDER: what a local image is made from (the functions that make it, the PostgreSQL entry
# point), hashed; the image carries it as a label, and a change of recipe rebuilds it.
recipe() {
  { declare -f "$1" bootstrap import; cat "$root/deploy/base-images/postgres-entrypoint.sh"; } \
    | sha256sum | cut -c1-16
}

# import DIR TAG CHANGE...: DIR as a one-layer image TAG, with Dockerfile CHANGEs and the recipe
# of the builder that called it.
import() {
  local dir=$1 tag=$2 recipe
  recipe=$(recipe "${FUNCNAME[1]}")
  shift 2
  local changes=(--change "LABEL user-service.base-recipe=$recipe")
  for change in "$@"; do changes+=(--change "$change"); done
  tar --numeric-owner -C "$dir" -c . | "$docker" import "${changes[@]}" - "$tag" >/dev/null
}

build_python() {
  local dir=$1
  bootstrap bookworm "$dir" python3 python3-pip python3-venv python-is-python3 ca-certificates
  # As in the official image, pip may install into the system interpreter (the build stage does).
  rm -f "$dir"/usr/lib/python3.*/EXTERNALLY-MANAGED
  import "$dir" "$2" 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
}

build_postgres() {
  local dir=$1
  # PostgreSQL 17 is Debian 13's (trixie) server; bookworm has 15.
  bootstrap trixie "$dir" postgresql-17
  install -m 755 "$root/deploy/base-images/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  import "$dir" "$2" \
    'ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' 'ENV PGDATA=/var/lib/postgresql/data' 'VOLUME /var/lib/postgresql/data' \
    'EXPOSE 5432' \
    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD ["postgres"]'
}

build_prometheus() {
  local dir=$1
  bootstrap trixie "$dir" prometheus
  mkdir -p "$dir/prometheus"
  chown 65534:65534 "$dir/prometheus"
  import "$dir" "$2" 'USER 65534:65534' 'WORKDIR /prometheus' 'VOLUME /prometheus' 'EXPOSE 9090' \
    'ENTRYPOINT ["/usr/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
}

# choose VARIABLE OFFICIAL LOCAL BUILDER: decide, build if needed, print VARIABLE=image.
choose() {
  local variable=$1 official=$2 local_tag=$3 builder=$4 recipe
  recipe=$(recipe "$builder")
  if [[ ${USE_REGISTRY:-0} == 1 ]]; then
    log "$variable=$official (USE_REGISTRY=1: the official image, pulled if missing)"
    present "$official" || "$docker" pull --quiet "$official" >/dev/null
    echo "$variable=$official"
  elif present "$official"; then
    log "$variable=$official (the official image, already here)"
    echo "$variable=$official"
  elif [[ $("$docker" image inspect --format '{{index .Config.Labels "user-service.base-recipe"}}' \
    "$local_tag" 2>/dev/null) == "$recipe" ]]; then
    log "$variable=$local_tag (built here from Debian packages earlier; recipe unchanged)"
    echo "$variable=$local_tag"
  else
    log "$variable=$local_tag (no $official here and no registry: building it from Debian packages)"
    local started=$SECONDS scratch
    scratch=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
    trap "umount '$scratch/root/proc' 2>/dev/null || true; rm -rf '$scratch'" EXIT
    "$builder" "$scratch/root" "$local_tag"
    rm -rf "$scratch"
    trap - EXIT
    log "$local_tag built in $((SECONDS - started)) s"
    echo "$variable=$local_tag"
  fi
}

if ! "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "$0: no Docker engine answers ($docker); start dockerd first" >&2
  exit 1
fi
if [[ ${USE_REGISTRY:-0} != 1 ]] && ! command -v debootstrap >/dev/null 2>&1; then
  echo "$0: debootstrap is needed to build base images without a registry (apt-get install debootstrap)" >&2
  exit 1
fi

mkdir -p "$(dirname "$env_file")"
{
  choose PYTHON_IMAGE python:3.11-slim-bookworm user-service-base/python:3.11-bookworm build_python
  choose POSTGRES_IMAGE postgres:17-bookworm user-service-base/postgres:17-trixie build_postgres
  choose PROMETHEUS_IMAGE prom/prometheus:v3.5.0 user-service-base/prometheus:trixie build_prometheus
} >"$env_file.new"
mv "$env_file.new" "$env_file"
log "wrote $env_file"
