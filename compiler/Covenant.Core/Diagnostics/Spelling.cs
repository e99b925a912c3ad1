namespace Covenant.Core.Diagnostics;

/// <summary>"Did you mean" suggestions for misspelt keys and names.</summary>
public static class Spelling
{
    /// <summary>The closest candidate within a small edit distance, or null when nothing is close.</summary>
    public static string? Suggest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = (int.MaxValue, int.MaxValue);
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(word.ToUpperInvariant(), candidate.ToUpperInvariant());
            // Ties go to the candidate that also matches in case ('KK' suggests 'K' before 'k').
            var ranked = (distance, EditDistance(word, candidate));
            if (ranked.CompareTo(bestDistance) < 0 && IsPlausibleTypo(word, candidate, distance))
            {
                best = candidate;
                bestDistance = ranked;
            }
        }

        return best;
    }

    // Allow roughly one typo per three characters; anything further is a different word. For names of one
    // or two letters (shape parameters such as K) a substitution turns any name into any other, so only a
    // case difference or one letter too many or too few ('kk' for 'k') counts.
    private static bool IsPlausibleTypo(string word, string candidate, int distance) =>
        word.Length <= 2
            ? distance == 0 || (distance == 1 && word.Length != candidate.Length)
            : distance <= Math.Max(1, word.Length / 3);

    /// <summary>" (did you mean 'x'?)" or the empty string, ready to append to a message.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates) =>
        Suggest(word, candidates) is { } s ? $" (did you mean '{s}'?)" : "";

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions, transpositions.</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
