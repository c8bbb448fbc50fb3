namespace Orleans.Licensing.Grants;

/// <summary>
/// One CSV cell of the usage exports (the server's <c>format=csv</c> and the CLI's <c>--csv</c>). Here, beside the
/// API keys, because it is a security rule as much as a format: client ids and details are the clients' own text.
/// </summary>
public static class CsvCell
{
    /// <summary>
    /// OWASP's CSV injection rule first: a cell a spreadsheet would run as a formula (it starts with =, +, -, @, tab or
    /// carriage return) starts with ' instead. Then RFC 4180: a cell with a comma, quote or line break is quoted, quotes
    /// doubled.
    /// </summary>
    public static string Of(string? value)
    {
        if (value is null) return "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
