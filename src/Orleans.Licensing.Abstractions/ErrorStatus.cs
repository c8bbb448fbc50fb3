namespace Orleans.Licensing;

/// <summary>
/// The HTTP status and title of each error of <see cref="LicensingErrors"/>: one home, so that the REST API and a
/// team's own frontend (which calls the grains) answer a refusal the same way.
/// </summary>
public static class ErrorStatus
{
    /// <summary>The problem type URI of an error: this base and the error code.</summary>
    public const string TypeBase = "https://orleans-licensing.dev/problems/";

    /// <summary>The status and title of <paramref name="error"/>; null for an error that is not one of <see cref="LicensingErrors"/>.</summary>
    public static (int Status, string Title)? Of(string error) => error switch
    {
        LicensingErrors.InvalidRequest => (400, "The request is invalid."),
        LicensingErrors.UnknownLicense => (404, "The license code is unknown."),
        LicensingErrors.LeaseUnknown => (404, "The lease is expired or unknown."),
        LicensingErrors.LeaseReleased => (404, "The lease was released by an administrator."),
        LicensingErrors.LeaseHeld => (409, "The lease's server is down; its seat is held for the client's fail-over."),
        LicensingErrors.NoAllocation => (409, "No allocation can be found."),
        LicensingErrors.Conflict => (409, "The request conflicts with the current state."),
        LicensingErrors.LicenseExpired => (403, "The license code has expired."),
        LicensingErrors.BodyTooLarge => (413, "The request body is too large."),
        LicensingErrors.NotFound => (404, "There is no such resource."),
        LicensingErrors.MethodNotAllowed => (405, "The resource does not support this method."),
        LicensingErrors.Unauthenticated => (401, "A credential is required."),
        LicensingErrors.Forbidden => (403, "The credential may not do this."),
        LicensingErrors.ForbiddenClient => (403, "The credential does not cover this client."),
        LicensingErrors.RateLimited => (429, "Too many requests."),
        LicensingErrors.CredentialSeatCap => (409, "This credential holds all the seats it may hold."),
        LicensingErrors.GrantReplayed => (409, "The grant was applied before."),
        LicensingErrors.GrantMalformed => (400, "The grant is malformed."),
        LicensingErrors.GrantMismatch => (400, "The grant does not fit this request."),
        LicensingErrors.GrantSignature => (403, "The grant's signature does not verify."),
        LicensingErrors.GrantUntrustedKey => (403, "The grant is signed with a key this server does not trust."),
        LicensingErrors.GrantExpired => (403, "The grant has expired."),
        LicensingErrors.GrantWrongPool => (403, "The grant is for another pool."),
        LicensingErrors.TrialLimit => (403, "Trial seats are capped."),
        LicensingErrors.BorrowLimit => (409, "The offline borrow policy does not allow this borrow."),
        LicensingErrors.Unavailable => (503, "The license server cannot serve this now; try another one."),
        _ => null,
    };
}
