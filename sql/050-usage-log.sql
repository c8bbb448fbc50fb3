-- Orleans.Licensing: the usage report log on PostgreSQL (PostgresUsageStore; docs/observability.md).
--
-- One row per usage event: checkout, checkin, expiry, denial, heartbeat, adoption, borrow, give-up and the admin
-- changes (code-added, allocations-added, distribution-changed, release). Written by every server in batches (binary COPY)
-- off the checkout path; read by any server for GET /api/v1/usage and the usage report. Rows of one pool share its
-- ServiceId, as in licensing_grain_state. Pruned by the servers: rows older than Licensing:UsageLog:Retention (default 400 days), in batches.

CREATE TABLE IF NOT EXISTS licensing_usage_log
(
    id         bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id varchar(150) NOT NULL,
    at         timestamptz  NOT NULL,
    kind       varchar(32)  NOT NULL,
    code       varchar(200) NOT NULL,
    server_id  varchar(256) NOT NULL,
    client_id  varchar(256) NULL,
    count      integer      NOT NULL,
    lease_id   varchar(128) NULL,
    detail     text         NULL
);

-- Added for "who holds what" (docs/admin/who-holds-what.md). Nullable, added in place: this file runs on every CI run
-- and every helm upgrade, so an existing table gains the columns and keeps its rows.
--   actor       who made an admin change (an API key id, or jwt:<sub> of a bearer token)
--   owner_user  the user a checkout's client named (display data)
--   owner_host  the host a checkout's client named (display data)
ALTER TABLE licensing_usage_log ADD COLUMN IF NOT EXISTS actor      varchar(300) NULL;
ALTER TABLE licensing_usage_log ADD COLUMN IF NOT EXISTS owner_user varchar(256) NULL;
ALTER TABLE licensing_usage_log ADD COLUMN IF NOT EXISTS owner_host varchar(256) NULL;

CREATE INDEX IF NOT EXISTS licensing_usage_log_code_at ON licensing_usage_log (service_id, code, at);
CREATE INDEX IF NOT EXISTS licensing_usage_log_at ON licensing_usage_log (service_id, at);
