-- Orleans.Licensing: Orleans grain storage (ADO.NET persistence) on PostgreSQL, the storage option Licensing:Storage=AdoNet.
--
-- Contract (Microsoft.Orleans.Persistence.AdoNet 10.4.2): query keys ReadFromStorageKey, WriteToStorageKey,
-- ClearStorageKey (required) and DeleteStorageKey (used only with DeleteStateOnClear = true).
-- Parameters it binds: @GrainIdHash, @GrainTypeHash (int hashes of the next two), @GrainIdN0, @GrainIdN1 (bigint:
-- the numeric/Guid key, 0 for string keys), @GrainTypeString (the STATE NAME, e.g. "pool", "server", "leases-3"),
-- @GrainIdExtensionString (the string key or key extension, may be NULL), @ServiceId, @GrainStateVersion (int ETag,
-- NULL when the caller has never seen the record) and, for writes, @PayloadBinary (the serialized state).
-- Results it reads: PayloadBinary and Version (read); NewGrainStateVersion (write); the first column (clear/delete).
--
-- ETag semantics: a write succeeds only if the caller's version is the stored one (or, with a NULL version, if no
-- record exists yet), and then answers the new version. Otherwise it answers NULL, which the provider turns into
-- InconsistentStateException; so every write/clear/delete query answers exactly one row, even when nothing changed.
--
-- Note that the record is keyed by state name + grain key + ServiceId, NOT by grain type: two grain types must not
-- use the same state name with the same key.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer        NOT NULL,
    GrainIdN0              bigint         NOT NULL,
    GrainIdN1              bigint         NOT NULL,
    GrainTypeHash          integer        NOT NULL,
    GrainTypeString        varchar(512)   NOT NULL,
    GrainIdExtensionString varchar(512)   NULL,
    ServiceId              varchar(150)   NOT NULL,
    PayloadBinary          bytea          NULL,
    ModifiedOn             timestamptz(3) NOT NULL DEFAULT now(),
    Version                integer        NOT NULL
);

-- One record per key: this unique index is what makes two concurrent first writes (two activations) end with one
-- winner. COALESCE makes a NULL key extension a value, so the index also works before PostgreSQL 15.
CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_Key ON OrleansStorage
    (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1, GrainTypeString, COALESCE(GrainIdExtensionString, ''));

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
  FROM OrleansStorage
 WHERE GrainIdHash = CAST(@GrainIdHash AS integer)
   AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
   AND ServiceId = CAST(@ServiceId AS varchar)
   AND GrainIdN0 = CAST(@GrainIdN0 AS bigint)
   AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
   AND GrainTypeString = CAST(@GrainTypeString AS varchar)
   AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '');
$q$),

-- With a version: update that exact version. Without one: insert, unless any record already exists.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE OrleansStorage
       SET PayloadBinary = CAST(@PayloadBinary AS bytea), Version = Version + 1, ModifiedOn = now()
     WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL
       AND GrainIdHash = CAST(@GrainIdHash AS integer)
       AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
       AND ServiceId = CAST(@ServiceId AS varchar)
       AND GrainIdN0 = CAST(@GrainIdN0 AS bigint)
       AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
       AND GrainTypeString = CAST(@GrainTypeString AS varchar)
       AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
       AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version),
inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
         PayloadBinary, Version)
    SELECT CAST(@GrainIdHash AS integer), CAST(@GrainIdN0 AS bigint), CAST(@GrainIdN1 AS bigint),
           CAST(@GrainTypeHash AS integer), CAST(@GrainTypeString AS varchar),
           CAST(@GrainIdExtensionString AS varchar), CAST(@ServiceId AS varchar), CAST(@PayloadBinary AS bytea), 1
     WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version)
SELECT COALESCE((SELECT Version FROM updated), (SELECT Version FROM inserted)) AS NewGrainStateVersion;
$q$),

-- Keeps the record (and its version history) but drops the payload: a later read sees no record, with an ETag.
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE OrleansStorage
       SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
     WHERE GrainIdHash = CAST(@GrainIdHash AS integer)
       AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
       AND ServiceId = CAST(@ServiceId AS varchar)
       AND GrainIdN0 = CAST(@GrainIdN0 AS bigint)
       AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
       AND GrainTypeString = CAST(@GrainTypeString AS varchar)
       AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
       AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version)
SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion;
$q$),

-- Removes the record. Answers the version after the deleted one on success (never the caller's own version).
('DeleteStorageKey', $q$
WITH deleted AS (
    DELETE FROM OrleansStorage
     WHERE GrainIdHash = CAST(@GrainIdHash AS integer)
       AND GrainTypeHash = CAST(@GrainTypeHash AS integer)
       AND ServiceId = CAST(@ServiceId AS varchar)
       AND GrainIdN0 = CAST(@GrainIdN0 AS bigint)
       AND GrainIdN1 = CAST(@GrainIdN1 AS bigint)
       AND GrainTypeString = CAST(@GrainTypeString AS varchar)
       AND COALESCE(GrainIdExtensionString, '') = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
       AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version)
SELECT (SELECT Version + 1 FROM deleted) AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
