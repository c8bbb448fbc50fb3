using System.Globalization;
using System.Text;

namespace Orleans.Licensing.Server.Api;

/// <summary>Input checks done before any grain is called, so that bad input activates and changes nothing.</summary>
/// <remarks>
/// Identifiers are shown to operators, logged and compared byte for byte, so none may hide or fake text: no control or
/// format characters (NUL, RTL overrides, zero-width), no lone surrogates, private-use or unassigned code points, no
/// leading or trailing white space, and only NFKC-normal text (a fullwidth or decomposed look-alike of another id is
/// refused rather than stored as a second id). Codes and server ids are path segments, lease ids URL-safe tokens.
/// </remarks>
public static class Validate
{
    public const int MaxCount = Limits.MaxSeats;

    public static string Code(string? code)
    {
        if (string.IsNullOrWhiteSpace(code) || code.Length > Limits.MaxCodeLength || !IsSegment(code))
            throw Problems.Invalid("A license code must be 1 to 200 characters with no '/', '\\', '%', control or invisible characters.");
        return code;
    }

    public static string LeaseId(string? leaseId)
    {
        if (string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > Limits.MaxLeaseIdLength || !leaseId.All(IsUnreserved) || leaseId.All(c => c == '.'))
            throw Problems.Invalid("A lease id of 1 to 128 letters, digits, '-', '_', '.' or '~' is required.");
        return leaseId;
    }

    public static string ClientId(string? clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > Limits.MaxClientIdLength || !IsVisibleText(clientId))
            throw Problems.Invalid("A client id of 1 to 256 characters, without control or invisible characters, is required.");
        return clientId;
    }

    public static string ServerId(string? serverId)
    {
        if (string.IsNullOrWhiteSpace(serverId) || serverId.Length > Limits.MaxServerIdLength || !IsSegment(serverId))
            throw Problems.Invalid("A server id of 1 to 200 characters with no '/', '\\', '%', control or invisible characters is required.");
        return serverId;
    }

    /// <summary>Who a lease belongs to (display data): each part optional, at most 256 visible characters; null when none is given.</summary>
    public static LeaseOwner? Owner(string? user, string? host, string? displayName)
    {
        OwnerPart(user, "user");
        OwnerPart(host, "host");
        OwnerPart(displayName, "displayName");
        return LeaseOwner.Of(user, host, displayName);
    }

    /// <summary>The owner a grain-call client sent (<see cref="ILicensingApiGrain"/>), checked as the REST fields are.</summary>
    public static LeaseOwner? Owner(LeaseOwner? owner) => owner is null ? null : Owner(owner.User, owner.Host, owner.DisplayName);

    private static void OwnerPart(string? part, string name)
    {
        if (string.IsNullOrEmpty(part)) return;
        if (part.Length > Limits.MaxOwnerPartLength || !IsVisibleText(part))
            throw Problems.Invalid($"'{name}' must be at most {Limits.MaxOwnerPartLength} characters, without control or invisible characters.");
    }

    /// <summary>An administrator's reason for a release: optional, at most 500 visible characters (it is shown and exported).</summary>
    public static string? Reason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) return null;
        reason = reason.Trim();
        if (reason.Length > Limits.MaxReasonLength || !IsVisibleText(reason))
            throw Problems.Invalid($"A reason must be at most {Limits.MaxReasonLength} characters, without control or invisible characters.");
        return reason;
    }

    public static int Count(int count, string what = "Count")
    {
        if (count < 1 || count > MaxCount) throw Problems.Invalid($"{what} must be between 1 and {MaxCount}.");
        return count;
    }

    /// <summary>
    /// An ISO 8601 duration ("P3D", "PT8H") of more than zero and at most <see cref="OfflineBorrowPolicy.Ceiling"/>:
    /// an offline borrow's length or a policy's max duration.
    /// </summary>
    public static TimeSpan Duration(string? text, string what)
    {
        var span = IsoDuration(text, $"{what} must be an ISO 8601 duration such as \"P3D\" or \"PT8H\".");
        if (span <= TimeSpan.Zero || span > OfflineBorrowPolicy.Ceiling)
            throw Problems.Invalid($"{what} must be more than zero and at most {OfflineBorrowPolicy.Ceiling.TotalDays:0} days (P{OfflineBorrowPolicy.Ceiling.TotalDays:0}D).");
        return span;
    }

    /// <summary>
    /// The server ids a distribution names are server ids too. A change of criteria must say how to distribute
    /// (<paramref name="requireMode"/>): <c>{}</c>, a threshold alone or a body meant for another endpoint would
    /// otherwise give every server a share of zero and send all idle seats to the free pool.
    /// </summary>
    public static void Distribution(DistributionRequest? body, bool requireMode)
    {
        if (body is null) return;
        if (requireMode && body.Shares is null && body.Weights is null && !body.Even)
            throw Problems.Invalid("Give the distribution: explicit shares, weights or even.");
        var ids = (body.Shares?.Keys ?? []).Concat(body.Weights?.Keys ?? []).Concat(body.Thresholds?.Keys ?? []);
        foreach (var id in ids) ServerId(id);
    }

    /// <summary>Text that can be a path segment: visible, and no separator, escape or dot segment.</summary>
    private static bool IsSegment(string s) => IsVisibleText(s) && s.IndexOfAny(['/', '\\', '%']) < 0 && !s.All(c => c == '.');

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~';

    private static bool IsVisibleText(string s)
    {
        if (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) return false;
        foreach (var rune in s.EnumerateRunes())
        {
            // A lone surrogate enumerates as the replacement character; a real U+FFFD is refused as well.
            if (rune == Rune.ReplacementChar) return false;
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator) return false;
            if (rune.Value is 0xFFFE or 0xFFFF) return false;
        }

        try
        {
            return s.IsNormalized(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return false;   // not well-formed UTF-16
        }
    }

    /// <summary>An ISO 8601 duration ("P3D", "PT8H"), or a 400 problem with <paramref name="refusal"/>.</summary>
    public static TimeSpan IsoDuration(string? text, string refusal)
    {
        try
        {
            return System.Xml.XmlConvert.ToTimeSpan(text?.Trim() ?? "");
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw Problems.Invalid(refusal);
        }
    }
}
