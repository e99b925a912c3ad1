using Covenant.Core.Diagnostics;

namespace Covenant.Codelets;

/// <summary>
/// The last line of the "never throw on user input" promise: an exception escaping a stage is a bug in
/// Covenant, and becomes an internal-error diagnostic (COV9001) instead of a crash. Tests assert it never appears.
/// </summary>
internal static class Guard
{
    public static Result<T> Run<T>(SourceLocation location, Func<Result<T>> stage)
        where T : class
    {
        try
        {
            return stage();
        }
#pragma warning disable CA1031 // Deliberately catch everything: see the summary. Cancellation is not used by these stages.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Result<T>.Failure(CoreDiagnostics.InternalError.Create(
                location,
                $"internal error ({e.GetType().Name}: {e.Message}); please report it with the input that caused it"));
        }
    }
}
