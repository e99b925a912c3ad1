namespace Covenant.Mapping.Z3;

/// <summary>Z3 cannot be used in this process; the message says why and what to do (usually: run tools/setup.sh).</summary>
public sealed class Z3UnavailableException : Exception
{
    public Z3UnavailableException()
    {
    }

    public Z3UnavailableException(string message)
        : base(message)
    {
    }

    public Z3UnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
