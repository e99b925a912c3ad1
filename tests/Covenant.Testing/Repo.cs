using System.Reflection;

namespace Covenant.Testing;

/// <summary>Paths inside the repository, independent of the test runner's working directory.</summary>
public static class Repo
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Architectures => Path.Combine(Root, "architectures");

    public static string Codelets => Path.Combine(Root, "codelets");

    /// <summary>The read-only shared/ folder that sits beside the checkout (also in CI).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        // Baked in at build time by tests/Directory.Build.props; fall back to walking up from the binaries.
        var baked = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CovenantRoot")?.Value;
        if (baked is not null && File.Exists(Path.Combine(baked, "Covenant.sln")))
        {
            return Path.GetFullPath(baked);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Covenant.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Covenant.sln) above " + AppContext.BaseDirectory);
    }
}
