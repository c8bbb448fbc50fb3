-- Orleans.Licensing: the usage report log on PostgreSQL (PostgresUsageStore; docs/observability.md).
--
-- One row per usage event: checkout, checkin, expiry, denial, heartbeat, adoption, borrow, give-up and the admin
-- changes (code-added, allocations-added, distribution-changed). Written by every server in batches (binary COPY)
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

CREATE INDEX IF NOT EXISTS licensing_usage_log_code_at ON licensing_usage_log (service_id, code, at);
CREATE INDEX IF NOT EXISTS licensing_usage_log_at ON licensing_usage_log (service_id, at);
