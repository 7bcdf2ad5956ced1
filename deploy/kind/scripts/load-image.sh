#!/usr/bin/env bash
# Put a Docker image into the Kind cluster's nodes (`kind load docker-image`, through the docker
# shim): nothing is pulled; workloads use it with imagePullPolicy Never or IfNotPresent.
#
#   deploy/kind/scripts/load-image.sh IMAGE:TAG...
source "$(dirname "$0")/lib.sh"

export PATH="$KIND_DIR/scripts/docker-shim:$PATH"
for image in "$@"; do
  timed "load $image" "$(cached kind "$KIND_VERSION")/bin/kind" load docker-image \
    --name "${KIND_CLUSTER:-user-service}" "$image"
done
