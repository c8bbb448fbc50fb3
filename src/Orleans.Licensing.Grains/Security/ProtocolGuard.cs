namespace Orleans.Licensing.Security;

/// <summary>
/// Closes the pool's internal protocol (<see cref="IServerGrain"/>, <see cref="IPoolGrain"/>, <see cref="ICatalogGrain"/>,
/// and every other grain or system target) to Orleans clients: a call whose sender is a client id, other than the
/// hosted client of a silo (code running inside a license server, such as its REST layer), passes only when the
/// <see cref="IClientCallPolicy"/> admits it. Calls from grains and system targets pass. The sender is the message's
/// sending-grain header, which the gateway does not check (docs/security.md): this stops every stock Orleans client,
/// not a hand-crafted one that writes a grain's id there; the grant signature check, silo TLS and the NetworkPolicy do.
/// </summary>
public sealed partial class ProtocolGuard(IClientCallPolicy policy, ILogger<ProtocolGuard> logger) : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (FromPool(context.SourceId)) return context.Invoke();
        var grainInterface = context.Request.GetInterfaceType();
        if (policy.Admits(context.TargetId, grainInterface)) return context.Invoke();
        LogRefused(context.SourceId?.ToString() ?? "(none)", grainInterface.Name, context.MethodName);
        return Task.FromException(new LicensingException(LicensingErrors.Forbidden,
            $"{grainInterface.Name}.{context.MethodName} is internal to the license servers; Orleans clients use {nameof(ILicensingApiGrain)}."));
    }

    /// <summary>
    /// A grain, a system target, or a silo's hosted client: Orleans names the sender of in-silo code outside any grain
    /// <c>sys.client/hosted-{silo address}</c> (HostedClient.CreateHostedClientGrainId); a gateway client's id is a
    /// random GUID of the same type (LocalClientDetails), which a stock client cannot choose.
    /// </summary>
    internal static bool FromPool(GrainId? source) =>
        source is { } id && (!id.IsClient() || id.Key.AsSpan().StartsWith("hosted-"u8));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a call of Orleans client {Client} to {Interface}.{Method}: only the license servers may call it")]
    private partial void LogRefused(string client, string @interface, string method);
}
