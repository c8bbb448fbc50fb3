#!/bin/sh
# Applies every .sql file of $SQL_DIR in file-name order with psql (each is idempotent), connecting with the ADO.NET
# (Npgsql) connection string in $CONNECTION_STRING: Host, Port, Username, Password, Database, SSL Mode. Values may not
# contain ';' (quoted Npgsql values are not parsed here).
set -eu
: "${SQL_DIR:=/sql}"
IFS=';'
for pair in $CONNECTION_STRING; do
    key=$(printf '%s' "${pair%%=*}" | tr -d ' ' | tr 'A-Z' 'a-z')
    value="${pair#*=}"
    case "$key" in
        host|server) export PGHOST="$value" ;;
        port) export PGPORT="$value" ;;
        username|userid|user|uid) export PGUSER="$value" ;;
        password|pwd) export PGPASSWORD="$value" ;;
        database|db) export PGDATABASE="$value" ;;
        sslmode)
            case $(printf '%s' "$value" | tr 'A-Z' 'a-z') in
                verifyca) export PGSSLMODE=verify-ca ;;
                verifyfull) export PGSSLMODE=verify-full ;;
                *) export PGSSLMODE=$(printf '%s' "$value" | tr 'A-Z' 'a-z') ;;
            esac ;;
    esac
done
unset IFS
for file in $(ls "$SQL_DIR"/*.sql | sort); do
    echo "applying $(basename "$file")"
    psql -v ON_ERROR_STOP=1 -q -f "$file"
done
echo "schema applied"
