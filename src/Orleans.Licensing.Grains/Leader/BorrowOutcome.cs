namespace Orleans.Licensing;

/// <summary>The answer to one borrow, kept so that a retried borrow (same operation id) is answered, not repeated.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.BorrowOutcome")]
public sealed record BorrowOutcome(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] int Granted,
    [property: Id(2)] IReadOnlyList<BorrowSource> Sources,
    [property: Id(3)] IReadOnlyDictionary<string, string>? Refused = null);
