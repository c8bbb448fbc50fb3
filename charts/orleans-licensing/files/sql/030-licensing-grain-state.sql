-- Orleans.Licensing: the pool's grain storage on PostgreSQL (provider PostgresGrainStorage, name "licensing").
--
-- One row per ServiceId + grain + state name ("pool", "catalog", "server", "leases-N", "journal-N"). The version is
-- the ETag: a write names the version it last saw and changes the row only if that is still the stored one (a first
-- write inserts version 1 only if no row exists), so a stale duplicate activation can never overwrite a newer state.
-- A clear keeps the row and its version, with no payload.
--
-- The provider sends the writes of many grains of one silo as one batch in one transaction: one round trip and one
-- WAL flush for all of them. Rows are updated in (grain_id, state_name) order within a batch, so two batches never
-- wait on each other in a cycle.
--
-- fillfactor 70: the payload is the only column that grows and no index covers it, so updates can stay on their page
-- (HOT) instead of adding an index entry and a dead tuple elsewhere on every journal write.

CREATE TABLE IF NOT EXISTS licensing_grain_state
(
    service_id  varchar(150) NOT NULL,
    grain_id    varchar(512) NOT NULL,
    state_name  varchar(128) NOT NULL,
    version     integer      NOT NULL,
    payload     bytea        NULL,
    modified_on timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_id, state_name)
) WITH (fillfactor = 70);
