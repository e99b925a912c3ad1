using System.CommandLine;
using System.CommandLine.Parsing;

namespace Covenant.Cli;

/// <summary>File arguments shared by the commands.</summary>
public static class CliArguments
{
    /// <summary>One or more input files.</summary>
    public static Argument<string[]> Files(string name, string description)
    {
        var argument = new Argument<string[]>(name) { Description = description, Arity = ArgumentArity.OneOrMore };
        argument.Validators.Add(RejectUnknownOptions);
        return argument;
    }

    /// <summary>Exactly one input file.</summary>
    public static Argument<string> File(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(RejectUnknownOptions);
        return argument;
    }

    // System.CommandLine hands an unknown "--flag" to a file argument as a file name; a misspelt option
    // then reads as "no such file". Say what it is instead (a real file may still start with '-').
    private static void RejectUnknownOptions(ArgumentResult result)
    {
        foreach (var token in result.Tokens)
        {
            if (token.Value.StartsWith('-') && !System.IO.File.Exists(token.Value))
            {
                result.AddError($"unrecognized option '{token.Value}'");
            }
        }
    }
}
