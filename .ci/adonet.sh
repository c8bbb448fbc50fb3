#!/usr/bin/env bash
# The PostgreSQL process tests (tests/Orleans.Licensing.Server.Tests, PostgresPool*) again on the storage option
# Licensing__Storage=AdoNet (Orleans' ADO.NET grain persistence, sql/040): the variable is inherited by every server
# process the tests start. $1: the CI database's connection string. Called by .ci/helm.sh; exits non-zero when a test
# fails, is skipped, or the servers did not write through the ADO.NET provider.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PG_CONNECTION=$1
RESULTS="$(pwd)/TestResults/ci-adonet"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
started=$SECONDS

# psql from the Npgsql connection string (Host, Port, Username, Password, Database).
sql() {
    local host=127.0.0.1 port=5432 user="" password="" database="" pair key
    IFS=';' read -ra pairs <<< "$PG_CONNECTION"
    for pair in "${pairs[@]}"; do
        key=$(echo "${pair%%=*}" | tr -d ' ' | tr 'A-Z' 'a-z')
        case "$key" in
            host) host=${pair#*=} ;; port) port=${pair#*=} ;; username) user=${pair#*=} ;;
            password) password=${pair#*=} ;; database) database=${pair#*=} ;;
        esac
    done
    PGPASSWORD=$password psql -h "$host" -p "$port" -U "$user" -d "$database" -Atq -v ON_ERROR_STOP=1 -c "$1"
}
rows_before=$(sql "SELECT count(*) FROM OrleansStorage WHERE ServiceId LIKE 'test-service-%'")

echo "== adonet: building the server-process tests"
dotnet build tests/Orleans.Licensing.Server.Tests -c Release -v q -nologo > "$RESULTS/build.log" 2>&1 || { tail -30 "$RESULTS/build.log"; exit 1; }
echo "== adonet: PostgresPool* tests with Licensing__Storage=AdoNet"
status=0
Licensing__Storage=AdoNet CI=true LICENSING_PROCESS_POSTGRES="$PG_CONNECTION" dotnet test tests/Orleans.Licensing.Server.Tests -c Release \
    --no-build --filter "FullyQualifiedName~PostgresPool" --logger trx --results-directory "$RESULTS" || status=$?

trx=$(compgen -G "$RESULTS/*.trx" | head -1 || true)
[ -n "$trx" ] || { echo "adonet: no test results"; exit 1; }
counter() { grep -o "<Counters [^>]*>" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]\+" || echo 0; }
total=$(counter total) executed=$(counter executed) passed=$(counter passed) failed=$(counter failed)
rows_after=$(sql "SELECT count(*) FROM OrleansStorage WHERE ServiceId LIKE 'test-service-%'")
echo "== adonet: $executed executed of $total, $passed passed, $failed failed; $((rows_after - rows_before)) OrleansStorage rows written; $((SECONDS - started)) s"
sql "DELETE FROM OrleansStorage WHERE ServiceId LIKE 'test-service-%'" > /dev/null
[ "$status" -eq 0 ] && [ "$executed" -gt 0 ] && [ "$executed" -eq "$total" ] && [ "$failed" -eq 0 ] || { echo "adonet: the tests did not all pass"; exit 1; }
[ "$rows_after" -gt "$rows_before" ] || { echo "adonet: the servers wrote no OrleansStorage row: the option was not used"; exit 1; }
