#!/usr/bin/env bash
# The application image the cluster runs, from the project's Dockerfile, on a Python base image
# made here from Debian's packages (python3.11, venv, pip): nothing is pulled.
#
#   deploy/kind/scripts/app-image.sh IMAGE:TAG [--force]
#
# An image already in Docker under IMAGE:TAG (from scripts/base-images.sh and `docker build`, say)
# is used as it is, unless --force. PYTHON_IMAGE names another base image.
source "$(dirname "$0")/lib.sh"

DOCKER=${DOCKER:-/usr/bin/docker}
image=${1:?usage: $0 IMAGE:TAG [--force]}
force=${2:-}

if [[ $force != --force ]] && "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
  log "app image $image: present in Docker"
  exit 0
fi

python_base() {
  local name dir archive
  name=$(local_image python "3.11-$DEBIAN_SUITE")
  "$DOCKER" image inspect "$name" >/dev/null 2>&1 && { printf '%s' "$name"; return; }
  archive="$KIND_CACHE/app-base/$(tr '/:' '__' <<<"$name").tar"
  if [[ -f $archive ]]; then
    "$DOCKER" load --input "$archive" >/dev/null
    printf '%s' "$name"
    return
  fi
  dir="$KIND_CACHE/rootfs-python-$DEBIAN_SUITE"
  if ! is_built "$dir"; then
    rm -rf "$dir"
    log "rootfs python: debootstrap $DEBIAN_SUITE"
    timed "rootfs python" low debootstrap --variant=minbase \
      --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
      "$DEBIAN_SUITE" "$dir" "$("$KIND_DIR/scripts/build-images.sh" --mirror)" >"$KIND_CACHE/debootstrap-python.log"
    # The machine's CA bundle, so pip and uv in the build trust what the machine trusts (uv
    # through SSL_CERT_FILE and UV_NATIVE_TLS below: it carries its own roots otherwise).
    cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
    # The image's pip installs into the system Python, as in the official Python images.
    rm -rf "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    mark_built "$dir"
  fi
  tar --numeric-owner --exclude=./.done -C "$dir" -c . |
    "$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
      --change 'ENV UV_NATIVE_TLS=true' - "$name" >/dev/null
  mkdir -p "$(dirname "$archive")"
  "$DOCKER" save --output "$archive" "$name"
  printf '%s' "$name"
}

base=${PYTHON_IMAGE:-$(python_base)}
# Without the `# syntax=` line: BuildKit would fetch that frontend image.
sed '/^# syntax=/d' "$REPO_ROOT/Dockerfile" >"$KIND_STATE/Dockerfile"
log "app image $image: docker build on $base"
(cd "$REPO_ROOT" && timed "app image" low env DOCKER_BUILDKIT=1 "$DOCKER" build --quiet \
  --file "$KIND_STATE/Dockerfile" --build-arg "PYTHON_IMAGE=$base" --tag "$image" . >/dev/null)
