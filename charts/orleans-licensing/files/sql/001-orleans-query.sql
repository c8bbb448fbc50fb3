-- Orleans.Licensing: PostgreSQL schema, part 1 of the Orleans ADO.NET query contract.
--
-- The Orleans ADO.NET providers (Microsoft.Orleans.Clustering.AdoNet and Microsoft.Orleans.Persistence.AdoNet
-- 10.4.2) issue no SQL of their own: at start-up they read every (QueryKey, QueryText) row of this table and run
-- those texts with named parameters (@DeploymentId, @GrainIdHash, ...), reading results by column name.
-- The files in sql/ fill it; each file is idempotent, so the whole folder can be applied again at any time:
--
--   for f in sql/*.sql; do psql -v ON_ERROR_STOP=1 -f "$f"; done
--
-- Requires PostgreSQL 11 or later (tested on 15). Tables are created in the connecting role's default schema.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);
