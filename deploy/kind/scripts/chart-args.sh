#!/usr/bin/env bash
# The helm arguments the running cluster needs besides a values file: with local builds
# (KIND_SOURCE=local, as recorded by kind-up.sh), CloudNativePG's PostgreSQL image is the one
# made here from Debian's packages. Prints nothing for KIND_SOURCE=registry.
source "$(dirname "$0")/lib.sh"

if [[ $(cat "$KIND_STATE/source" 2>/dev/null || echo local) == local ]]; then
  printf -- '--set=database.cloudnativepg.cluster.imageName=%s\n' \
    "$(local_image postgresql "$(cat "$KIND_CACHE/images/postgresql.version")")"
fi
