namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    private const string LeaseA2 = Checkout + "/hostile-a2";
    private const string Gone = Checkout + "/" + HostileFixture.GoneLease;

    /// <summary>Unknown, gone and other clients' leases; heartbeats and fail-over updates that name the wrong server or count.</summary>
    private static IEnumerable<HostileCase> LeaseCases()
    {
        // Heartbeats of a seeded lease by someone else, or with another count (a renewal must not resize a lease).
        yield return J("lease.other-client.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(clientId: "\"ws-2\""), 409, Conflict);
        yield return J("lease.other-tenant-client.heartbeat", Put, LeaseA2, Cred.Client, HeartbeatOf(clientId: "\"ws-1\"", count: "1"), 409, Conflict);
        yield return J("lease.smaller-count.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: "1"), 409, Conflict);
        yield return J("lease.larger-count.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: "3"), 409, Conflict);
        yield return J("lease.client-id-case.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(clientId: "\"WS-1\""), 409, Conflict);
        yield return J("lease.unknown-id.heartbeat", Put, Checkout + "/no-such-lease", Cred.Client, HeartbeatOf(), 404, LeaseUnknown);
        yield return J("lease.gone.heartbeat", Put, Gone, Cred.Client, HeartbeatOf(count: "1"), 404, LeaseUnknown);
        yield return J("lease.other-code.heartbeat", Put, Checkout + "/hostile-b1", Cred.Client, HeartbeatOf(count: "1"), 404, LeaseUnknown);

        // Heartbeats naming a server that is not the lease's: fail-over updates with made-up ids, servers or counts.
        yield return J("failover.unknown-server.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "\"beta\""), 404, LeaseUnknown);
        yield return J("failover.server-id-case.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "\"ALPHA\""), 404, LeaseUnknown);
        yield return J("failover.made-up-lease.heartbeat", Put, Checkout + "/made-up-lease", Cred.Client, HeartbeatOf(serverId: "\"beta\""), 404, LeaseUnknown);
        yield return J("failover.made-up-lease-home.heartbeat", Put, Checkout + "/made-up-lease", Cred.Client, HeartbeatOf(count: "4"), 404, LeaseUnknown);
        yield return J("failover.wrong-count-unknown-server.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: "4", serverId: "\"gamma\""), 404, LeaseUnknown);
        yield return J("failover.gone-lease-unknown-server.heartbeat", Put, Gone, Cred.Client, HeartbeatOf(count: "1", serverId: "\"beta\""), 404, LeaseUnknown);
        yield return J("failover.empty-server-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "\"\""));
        yield return J("failover.null-server-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "null"));
        yield return J("failover.slash-server-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "\"alpha/../alpha\""));
        yield return J("failover.dotdot-server-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "\"..\""));

        // Check-ins of someone else's lease, a gone one, or without saying whose.
        yield return new("checkin.other-client", Delete, LeaseA1 + "?clientId=ws-2", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.other-tenant-lease", Delete, LeaseA2 + "?clientId=ws-1", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.client-id-case", Delete, LeaseA1 + "?clientId=WS-1", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.no-client-id", Delete, LeaseA1, Cred.Client, 400, Invalid);
        yield return new("checkin.empty-client-id", Delete, LeaseA1 + "?clientId=", Cred.Client, 400, Invalid);
        yield return new("checkin.two-client-ids", Delete, LeaseA1 + "?clientId=ws-2&clientId=ws-1", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.unknown-lease", Delete, Checkout + "/no-such-lease?clientId=ws-1", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.gone-lease", Delete, Gone + "?clientId=ws-1", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.unknown-server", Delete, LeaseA1 + "?clientId=ws-1&serverId=beta", Cred.Client, 404, LeaseUnknown);
        yield return new("checkin.empty-server", Delete, LeaseA1 + "?clientId=ws-1&serverId=", Cred.Client, 400, Invalid);
        yield return new("checkin.slash-server", Delete, LeaseA1 + "?clientId=ws-1&serverId=alpha%2F..", Cred.Client, 400, Invalid);
        yield return new("checkin.unknown-code", Delete, Licenses + "/NO-SUCH-CODE/leases/hostile-a1?clientId=ws-1", Cred.Client, 404, UnknownLicense);
        yield return new("checkin.nul-client-id", Delete, LeaseA1 + "?clientId=ws-1%00", Cred.Client, 400, Invalid);
        yield return new("checkin.rtl-client-id", Delete, LeaseA1 + "?clientId=%E2%80%AEws-1", Cred.Client, 400, Invalid);

        // Checkouts that reuse a seeded lease id under another client or count (a retry must match exactly).
        yield return J("checkout.reused-lease-id-other-client", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":2,"leaseId":"hostile-a1"}""", 409, Conflict);
        yield return J("checkout.reused-lease-id-other-count", Post, Checkout, Cred.Client, """{"clientId":"ws-1","count":1,"leaseId":"hostile-a1"}""", 409, Conflict);
        yield return J("checkout.empty-lease-id", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":""}""");
        yield return J("checkout.slash-lease-id", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":"a/../hostile-a1"}""");
        yield return J("checkout.dotdot-lease-id", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":".."}""");
        yield return J("checkout.percent-lease-id", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":"hostile%2Fa1"}""");
        yield return J("checkout.space-lease-id", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":"lease 1"}""");

        // Owners are display data, still bounded: no control or invisible characters, at most 256 characters.
        yield return J("checkout.owner-newline-user", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"user":"ada\nroot"}""");
        yield return J("checkout.owner-rtl-host", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"host":"\u202Ews-9"}""");
        yield return J("checkout.owner-long-display-name", Post, Checkout, Cred.Client, $$"""{"clientId":"ws-9","count":1,"displayName":"{{new string('d', 257)}}"}""");
        yield return J("heartbeat.owner-nul-user", Put, LeaseA1, Cred.Client, """{"clientId":"ws-1","count":2,"serverId":"alpha","user":"ada\u0000"}""");

        // Releases (admin) that must release nothing: bad reasons, bodies and ids, and leases no server holds.
        yield return J("release.reason-control", Post, LeaseA1 + "/release", Cred.Admin, """{"reason":"bye\u0007"}""");
        yield return J("release.reason-too-long", Post, LeaseA1 + "/release", Cred.Admin, $$"""{"reason":"{{new string('r', 501)}}"}""");
        yield return J("release.reason-not-a-string", Post, LeaseA1 + "/release", Cred.Admin, """{"reason":42}""");
        yield return J("release.body-not-an-object", Post, LeaseA1 + "/release", Cred.Admin, "[]");
        yield return J("release.unknown-lease", Post, Checkout + "/no-such-lease/release", Cred.Admin, """{"reason":"x"}""", 404, LeaseUnknown);
        yield return J("release.gone-lease", Post, Gone + "/release", Cred.Admin, """{"reason":"x"}""", 404, LeaseUnknown);
        yield return J("release.other-code-lease", Post, Checkout + "/hostile-b1/release", Cred.Admin, """{"reason":"x"}""", 404, LeaseUnknown);
        yield return J("release.unknown-code", Post, Licenses + "/NO-SUCH-CODE/leases/hostile-a1/release", Cred.Admin, """{"reason":"x"}""", 404, UnknownLicense);
        yield return J("release.bad-lease-id", Post, Checkout + "/lease%20one/release", Cred.Admin, """{"reason":"x"}""");
    }

    /// <summary>Distribution criteria an attacker could use to move seats or break the planner.</summary>
    private static IEnumerable<HostileCase> DistributionCases()
    {
        (string Kind, string Body, int Status, string Error)[] cases =
        [
            ("shares-over-seats", """{"shares":{"alpha":11}}""", 400, Invalid),
            ("shares-negative", """{"shares":{"alpha":-1}}""", 400, Invalid),
            ("shares-int-max", """{"shares":{"alpha":2147483647}}""", 400, Invalid),
            ("weights-empty", """{"weights":{}}""", 400, Invalid),
            ("weights-zero", """{"weights":{"alpha":0}}""", 400, Invalid),
            ("weights-negative", """{"weights":{"alpha":-5}}""", 400, Invalid),
            ("even-and-weights", """{"even":true,"weights":{"alpha":1}}""", 400, Invalid),
            ("even-and-shares", """{"even":true,"shares":{"alpha":1}}""", 400, Invalid),
            ("shares-and-weights", """{"shares":{"alpha":1},"weights":{"alpha":1}}""", 400, Invalid),
            ("threshold-zero", """{"even":true,"defaultThreshold":0}""", 400, Invalid),
            ("threshold-negative", """{"even":true,"defaultThreshold":-0.5}""", 400, Invalid),
            ("threshold-over-one", """{"even":true,"thresholds":{"alpha":2}}""", 400, Invalid),
            ("threshold-huge", """{"even":true,"defaultThreshold":1e308}""", 400, Invalid),
            ("threshold-overflow", """{"even":true,"defaultThreshold":1e309}""", 400, Invalid),
            ("reserve-over-seats", """{"even":true,"freePoolReserve":11}""", 400, Invalid),
            ("reserve-negative", """{"even":true,"freePoolReserve":-1}""", 400, Invalid),
            ("shares-slash-server", """{"shares":{"a/b":1}}""", 400, Invalid),
            ("shares-empty-server", """{"shares":{"":1}}""", 400, Invalid),
            ("shares-nul-server", """{"shares":{"alpha\u0000":1}}""", 400, Invalid),
            ("no-mode", """{"defaultThreshold":0.5}""", 400, Invalid),
            ("checkout-body", """{"clientId":"ws-9","count":1}""", 400, Invalid),
            ("shares-null-value", """{"shares":{"alpha":null}}""", 400, Invalid),
            ("shares-rtl-server", """{"shares":{"alpha\u202E":0}}""", 400, Invalid),
            ("weights-zero-width-server", """{"weights":{"al\u200Bpha":1}}""", 400, Invalid),
            ("thresholds-backslash-server", """{"even":true,"thresholds":{"..\\alpha":0.5}}""", 400, Invalid),
            ("thresholds-nul-server", """{"even":true,"thresholds":{"al\u0000pha":0.5}}""", 400, Invalid),
        ];
        foreach (var (kind, body, status, error) in cases)
            yield return J($"distribution.{kind}", Put, Distribution, Cred.Admin, body, status, error);
    }
}
