namespace Orleans.Licensing.Security;

/// <summary>
/// Which grain calls an Orleans client (a caller that came through a gateway) may make. The default,
/// <see cref="PublicContractOnly"/>, admits the public contract only; there is no configuration switch: only code that
/// builds the silo can register another policy (the test clusters do, to drive the protocol from their client).
/// </summary>
public interface IClientCallPolicy
{
    /// <param name="target">The grain or system target called.</param>
    /// <param name="grainInterface">The grain interface of the called method.</param>
    bool Admits(GrainId target, Type grainInterface);
}
