#!/usr/bin/env bash
# The application image the cluster runs: a plain `docker build` of the project's Dockerfile, as
# e2e/containers and Compose build it, on the Python base image scripts/base-images.sh chose (an
# official image already here, or one it builds from Debian's packages; with USE_REGISTRY=1 the
# official one, pulled). Docker's layer cache makes an unchanged tree a few seconds' rebuild, so
# the image is always built: the cluster runs the code of this checkout, never a stale tag.
#
#   deploy/kind/scripts/app-image.sh IMAGE:TAG [DOCKER-BUILD-OPTION...]
#
# Options go to `docker build` (tilt-ci.sh adds --file and --target for Tilt's dev stage).
# PYTHON_IMAGE names another base image, which must be in Docker already.
source "$(dirname "$0")/lib.sh"

DOCKER=${DOCKER:-/usr/bin/docker}
image=${1:?usage: $0 IMAGE:TAG [DOCKER-BUILD-OPTION...]}
shift

if [[ -n ${PYTHON_IMAGE:-} ]]; then
  base=$PYTHON_IMAGE
else
  # Decides each base image (building what is missing) and writes .cache/base-images.env; a few
  # seconds when the images are here.
  "$REPO_ROOT/scripts/base-images.sh" >&2
  base=$(sed -n 's/^PYTHON_IMAGE=//p' "$REPO_ROOT/.cache/base-images.env")
fi
# BuildKit would look a missing base image up in a registry: refuse instead.
"$DOCKER" image inspect "$base" >/dev/null 2>&1 || die "base image $base is not in Docker"

# The build stage trusts the machine's CA bundle too (a TLS-inspecting proxy's), as an optional
# build secret that never reaches the runtime stage.
log "app image $image: docker build on $base"
(cd "$REPO_ROOT" && timed "app image $image" low env DOCKER_BUILDKIT=1 "$DOCKER" build --quiet \
  --build-arg "PYTHON_IMAGE=$base" --secret "id=extra-ca,src=${SSL_CERT_FILE:-/dev/null}" \
  --tag "$image" "$@" . >/dev/null)
