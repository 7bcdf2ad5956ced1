#!/usr/bin/env bash
# What `tilt ci` does with the Tiltfile, step by step with helm and kubectl, on the Kind cluster
# (make kind-up first): CloudNativePG's operator, the dev database (deploy/kind/database.yaml),
# the dev image (the Dockerfile plus the Tiltfile's DEV_STAGE), the chart with
# deploy/kind/values-dev.yaml, readiness, then the smoke Job (`helm test`). Everything it
# installs it removes again, pass or fail.
#
# Why not `tilt ci` itself: the Tiltfile loads ext://helm_resource, and Tilt fetches extensions
# from their Git repository when the Tiltfile loads; with no way off the machine that fails at
# once (see README, "What has been run here").
source "$(dirname "$0")/lib.sh"

export KUBECONFIG=${KUBECONFIG:-$KIND_STATE/kubeconfig}
export PATH="$(cached kubernetes "$KUBERNETES_VERSION")/bin:$REPO_ROOT/.tools/bin:$PATH"
NAMESPACE=user-service
RELEASE=user-service
DEV_IMAGE=${DEV_IMAGE:-user-service:tilt-dev}
source_=$(cat "$KIND_STATE/source" 2>/dev/null || echo local)

database_manifest() {
  if [[ $source_ == local ]]; then
    sed "s#^  imageName: .*#  imageName: $(local_image postgresql "$(cat "$KIND_CACHE/images/postgresql.version")")#" \
      "$KIND_DIR/database.yaml"
  else
    cat "$KIND_DIR/database.yaml"
  fi
}

cleanup() {
  helm uninstall "$RELEASE" --namespace "$NAMESPACE" --wait --timeout 5m >/dev/null 2>&1 || true
  database_manifest | kubectl delete --ignore-not-found --wait=true -f - >/dev/null 2>&1 || true
}
trap cleanup EXIT

start=$SECONDS
timed "tilt-ci: cnpg-operator" "$KIND_DIR/scripts/install-addons.sh" cnpg
database_manifest | kubectl apply -f -
timed "tilt-ci: database" kubectl --namespace "$NAMESPACE" wait cluster/user-service-db \
  --for=condition=Ready --timeout=600s

# The dev image: the Tiltfile's own DEV_STAGE after the Dockerfile, target dev.
dockerfile="$KIND_STATE/Dockerfile.dev"
{
  cat "$REPO_ROOT/Dockerfile"
  sed -n '/^DEV_STAGE = """/,/^"""/p' "$REPO_ROOT/Tiltfile" | sed '1d;$d'
} >"$dockerfile"
"$KIND_DIR/scripts/app-image.sh" "$DEV_IMAGE" --file "$dockerfile" --target dev
"$KIND_DIR/scripts/load-image.sh" "$DEV_IMAGE"

timed "tilt-ci: user-service" helm upgrade --install "$RELEASE" "$REPO_ROOT/helm/user-service" \
  --namespace "$NAMESPACE" --create-namespace --values "$KIND_DIR/values-dev.yaml" \
  --set "image.repository=${DEV_IMAGE%:*}" --set "image.tag=${DEV_IMAGE##*:}" \
  --set image.pullPolicy=IfNotPresent --timeout=10m --wait
timed "tilt-ci: smoke-test" helm test "$RELEASE" --namespace "$NAMESPACE" --timeout=5m
log "tilt-ci: passed in $((SECONDS - start)) s"
