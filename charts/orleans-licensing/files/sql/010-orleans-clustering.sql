-- Orleans.Licensing: Orleans silo membership (ADO.NET clustering) on PostgreSQL.
--
-- Contract (Microsoft.Orleans.Clustering.AdoNet 10.4.2): the provider requires these query keys in OrleansQuery:
--   InsertMembershipVersionKey, MembershipReadAllKey, MembershipReadRowKey, InsertMembershipKey,
--   UpdateMembershipKey, UpdateIAmAlivetimeKey, GatewaysQueryKey, DeleteMembershipTableEntriesKey,
--   CleanupDefunctSiloEntriesKey.
-- Parameters it binds: @DeploymentId (the ClusterId), @Address (text), @Port, @Generation, @SiloName, @HostName,
-- @Status (SiloStatus as int: 3 = Active, 6 = Dead), @ProxyPort, @SuspectTimes (text), @StartTime, @IAmAliveTime
-- (UTC DateTime), @Version (the membership table version the caller read: the table's ETag).
-- Writes answer one row with one column: non-zero = done, zero = lost a race (the caller re-reads and retries).
-- A write changes the version row and a member row together or not at all.
--
-- The optional per-row key CleanupDefunctSiloEntryKey is deliberately NOT defined: 10.4.2 binds its time
-- parameters as DbType.DateTime (timestamp without time zone), which Npgsql refuses for UTC values.

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId FOREIGN KEY (DeploymentId)
        REFERENCES OrleansMembershipVersionTable (DeploymentId) ON DELETE CASCADE
);

-- Adds a silo's row and bumps the table version, both only if the caller's version is still current.
-- The version row is updated first: its row lock orders concurrent writers of one cluster.
CREATE OR REPLACE FUNCTION licensing_membership_insert(
    p_deployment_id varchar,
    p_address       varchar,
    p_port          integer,
    p_generation    integer,
    p_silo_name     varchar,
    p_host_name     varchar,
    p_status        integer,
    p_proxy_port    integer,
    p_start_time    timestamptz,
    p_i_am_alive    timestamptz,
    p_version       integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment_id AND Version = p_version;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port,
         p_start_time, p_i_am_alive)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        -- The silo already has a row: undo the version bump (this block's changes roll back) and report failure.
        RAISE EXCEPTION USING ERRCODE = 'LC001', MESSAGE = 'membership row exists';
    END IF;

    RETURN 1;
EXCEPTION
    WHEN SQLSTATE 'LC001' THEN
        RETURN 0;
END
$fn$;

-- Changes a silo's row and bumps the table version, both only if the caller's version is still current.
CREATE OR REPLACE FUNCTION licensing_membership_update(
    p_deployment_id varchar,
    p_address       varchar,
    p_port          integer,
    p_generation    integer,
    p_status        integer,
    p_suspect_times varchar,
    p_i_am_alive    timestamptz,
    p_version       integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1, Timestamp = now()
     WHERE DeploymentId = p_deployment_id AND Version = p_version;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
       SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = p_i_am_alive
     WHERE DeploymentId = p_deployment_id AND Address = p_address AND Port = p_port AND Generation = p_generation;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'LC001', MESSAGE = 'membership row missing';
    END IF;

    RETURN 1;
EXCEPTION
    WHEN SQLSTATE 'LC001' THEN
        RETURN 0;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
WITH inserted AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (CAST(@DeploymentId AS varchar))
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1)
SELECT CAST(count(*) AS integer) AS Inserted FROM inserted;
$q$),

('MembershipReadAllKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
 WHERE v.DeploymentId = CAST(@DeploymentId AS varchar);
$q$),

('MembershipReadRowKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m
         ON m.DeploymentId = v.DeploymentId
        AND m.Address = CAST(@Address AS varchar)
        AND m.Port = CAST(@Port AS integer)
        AND m.Generation = CAST(@Generation AS integer)
 WHERE v.DeploymentId = CAST(@DeploymentId AS varchar);
$q$),

('InsertMembershipKey', $q$
SELECT licensing_membership_insert(
    CAST(@DeploymentId AS varchar), CAST(@Address AS varchar), CAST(@Port AS integer),
    CAST(@Generation AS integer), CAST(@SiloName AS varchar), CAST(@HostName AS varchar),
    CAST(@Status AS integer), CAST(@ProxyPort AS integer), CAST(@StartTime AS timestamptz),
    CAST(@IAmAliveTime AS timestamptz), CAST(@Version AS integer)) AS Inserted;
$q$),

('UpdateMembershipKey', $q$
SELECT licensing_membership_update(
    CAST(@DeploymentId AS varchar), CAST(@Address AS varchar), CAST(@Port AS integer),
    CAST(@Generation AS integer), CAST(@Status AS integer), CAST(@SuspectTimes AS varchar),
    CAST(@IAmAliveTime AS timestamptz), CAST(@Version AS integer)) AS Updated;
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
   SET IAmAliveTime = CAST(@IAmAliveTime AS timestamptz)
 WHERE DeploymentId = CAST(@DeploymentId AS varchar)
   AND Address = CAST(@Address AS varchar)
   AND Port = CAST(@Port AS integer)
   AND Generation = CAST(@Generation AS integer);
$q$),

('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
  FROM OrleansMembershipTable
 WHERE DeploymentId = CAST(@DeploymentId AS varchar)
   AND Status = CAST(@Status AS integer)
   AND ProxyPort > 0;
$q$),

-- Removes a whole cluster (the version row; its member rows go with it by ON DELETE CASCADE).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipVersionTable
 WHERE DeploymentId = CAST(@DeploymentId AS varchar);
$q$),

-- Removes rows of silos declared dead (Status 6) that neither started nor reported alive since the cutoff.
-- Rows of silos in any other state are left to the membership protocol, which declares them dead first.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = CAST(@DeploymentId AS varchar)
   AND Status = 6
   AND IAmAliveTime < CAST(@IAmAliveTime AS timestamptz)
   AND StartTime < CAST(@IAmAliveTime AS timestamptz);
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
