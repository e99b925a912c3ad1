namespace Covenant.Mapping.Tests;

/// <summary>
/// Entry point for the child processes that some tests start (`dotnet exec Covenant.Mapping.Tests.dll
/// COMMAND ...`); the test runner itself never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is [Z3Stress.Command, .. var rest])
        {
            return Z3Stress.Run(rest);
        }

        Console.Error.WriteLine($"usage: Covenant.Mapping.Tests {Z3Stress.Command} [--seconds N] [--contexts N]");
        return 2;
    }
}
