using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Covenant.Core.Diagnostics;

/// <summary>
/// What a stage hands on: a value (absent when an error made one impossible) and every diagnostic it
/// produced. Warnings may accompany a value; errors never do unless the stage could recover.
/// </summary>
public sealed record Result<T>(T? Value, ImmutableArray<Diagnostic> Diagnostics)
    where T : class
{
    [MemberNotNullWhen(true, nameof(Value))]
    public bool Succeeded => Value is not null && !Diagnostics.Any(d => d.IsError);

    public static Result<T> Success(T value, ImmutableArray<Diagnostic> diagnostics = default) =>
        new(value, diagnostics.IsDefault ? [] : diagnostics);

    public static Result<T> Failure(ImmutableArray<Diagnostic> diagnostics) => new(null, diagnostics);

    public static Result<T> Failure(Diagnostic diagnostic) => new(null, [diagnostic]);
}
