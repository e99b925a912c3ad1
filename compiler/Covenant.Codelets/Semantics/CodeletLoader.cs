using Covenant.Codelets.Parsing;
using Covenant.Core.Diagnostics;

namespace Covenant.Codelets.Semantics;

/// <summary>Reads, parses and checks a <c>.cdlt</c> file, returning every diagnostic of every stage that ran.</summary>
public static class CodeletLoader
{
    public static Result<CheckedCodelet> Load(string path) =>
        Guard.Run(SourceLocation.OfFile(path), () =>
        {
            var file = SourceFile.Read(path);
            if (!file.Succeeded)
            {
                return Result<CheckedCodelet>.Failure(file.Diagnostics);
            }

            return Load(file.Value);
        });

    /// <summary>Parses and checks a file already in memory (tests, editors, files read elsewhere).</summary>
    public static Result<CheckedCodelet> Load(SourceFile file) =>
        Guard.Run(new SourceLocation(file.Path, 1, 1), () =>
        {
            var parsed = CodeletParser.Parse(file);
            if (!parsed.Succeeded)
            {
                return Result<CheckedCodelet>.Failure(parsed.Diagnostics);
            }

            var checkedCodelet = CodeletChecker.Check(parsed.Value);
            return checkedCodelet with { Diagnostics = parsed.Diagnostics.AddRange(checkedCodelet.Diagnostics) };
        });
}
