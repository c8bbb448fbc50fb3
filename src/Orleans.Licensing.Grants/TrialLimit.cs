namespace Orleans.Licensing.Grants;

/// <summary>The trial: seats signed by a trial key (the zero-setup local key) are capped per pool, across all codes.</summary>
public static class TrialLimit
{
    public const int Seats = 10;
}
