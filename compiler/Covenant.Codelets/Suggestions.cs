using Covenant.Core.Diagnostics;

namespace Covenant.Codelets;

/// <summary>"Did you mean" for codelet names, where one-letter names (M, N, K, i, j) are the norm.</summary>
internal static class Suggestions
{
    /// <summary>
    /// Like <see cref="Spelling.DidYouMean"/>, but a one-letter name is only matched up to case (k for K):
    /// any letter is one edit from any other, so anything more would suggest noise.
    /// </summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates) =>
        word.Length > 1
            ? Spelling.DidYouMean(word, candidates)
            : candidates.FirstOrDefault(c => string.Equals(c, word, StringComparison.OrdinalIgnoreCase)) is { } same
                ? $" (did you mean '{same}'?)"
                : "";
}
