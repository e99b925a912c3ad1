using System.Globalization;
using System.Text.RegularExpressions;
using Covenant.Targets.Vnni;

namespace Covenant.Bench;

/// <summary>The command line of covenant-bench.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        usage: covenant-bench [options]
          --suite NAME|PATH     a suite of codelets/suites (resnet50, bert_large, dlrm, deepbench); repeatable;
                                default: all four
          --arch NAME|PATH      architecture YAML (default vnni-avx512; vnni-avx256 for the 8-lane form)
          --only REGEX          only layers whose 'suite/name' matches
          --threads N           threads for both libraries (default: the architecture's core count)
          --min-time SECONDS    time each side at least this long per layer (default 0.3); median of the runs
          --max-reps N          at most N timed runs per side (default 50)
          -o, --output DIR      where bench.csv and bench.json go (default out/bench, which git ignores;
                                --out is the old spelling)
          --no-onednn           time our kernels only
          --no-uncapped         skip the uncapped oneDNN column (a child process)
          --no-install          do not apt-get libdnnl-dev when it is missing
          --verify              also check every layer against the reference interpreter (slow on big layers)
          --seed N              input seed (default 1)
          --plan mapping|heuristic     blocking from the Z3 mapper's tiles (default) or the target's own heuristic
          --records FILE               with --plan mapping: each layer's best mapping in this 'covenantc tune' log
          --mr/--nr/--mc/--nc/--kc N   override the plan's register and cache blocking (tuning)
        """;

    public List<string> Suites { get; } = [];

    public string Architecture { get; set; } = "vnni-avx512";

    public Regex? Only { get; set; }

    public int? Threads { get; set; }

    public double MinTime { get; set; } = 0.3;

    public int MaxReps { get; set; } = 50;

    public string Out { get; set; } = Path.Combine("out", "bench");

    public bool OneDnn { get; set; } = true;

    public bool Uncapped { get; set; } = true;

    public bool Install { get; set; } = true;

    public bool Verify { get; set; }

    public ulong Seed { get; set; } = 1;

    public bool ChildUncapped { get; set; }

    public VnniPlanOptions Plan { get; set; } = VnniPlanOptions.Default;

    /// <summary>Plan from the mapper's mapping (what covenantc compiles) rather than the target's heuristic.</summary>
    public bool FromMapping { get; set; } = true;

    /// <summary>A <c>covenantc tune</c> log whose best record of a layer replaces the default mapping.</summary>
    public string? Records { get; set; }

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new BenchException($"{args[i]} needs a value\n{Usage}");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n : throw new BenchException($"{args[i - 1]} needs a positive integer");
            switch (args[i])
            {
                case "--suite": options.Suites.Add(Value()); break;
                case "--arch": options.Architecture = Value(); break;
                case "--only": options.Only = new Regex(Value(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); break;
                case "--threads": options.Threads = Int(); break;
                case "--min-time": options.MinTime = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--max-reps": options.MaxReps = Int(); break;
                case "-o" or "--output" or "--out": options.Out = Value(); break;
                case "--no-onednn": options.OneDnn = false; break;
                case "--no-uncapped": options.Uncapped = false; break;
                case "--no-install": options.Install = false; break;
                case "--verify": options.Verify = true; break;
                case "--seed": options.Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--child-uncapped": options.ChildUncapped = true; break;
                case "--mr": options.Plan = options.Plan with { MR = Int() }; break;
                case "--nr": options.Plan = options.Plan with { NR = Int() }; break;
                case "--mc": options.Plan = options.Plan with { MC = Int() }; break;
                case "--nc": options.Plan = options.Plan with { NC = Int() }; break;
                case "--kc": options.Plan = options.Plan with { KC = Int() }; break;
                case "--records": options.Records = Value(); break;
                case "--plan":
                    options.FromMapping = Value() switch
                    {
                        "mapping" => true,
                        "heuristic" => false,
                        var other => throw new BenchException($"--plan takes 'mapping' or 'heuristic', not '{other}'"),
                    };
                    break;
                case "-h" or "--help": throw new BenchException(Usage);
                default: throw new BenchException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        if (options.Suites.Count == 0)
        {
            options.Suites.AddRange(["resnet50", "bert_large", "dlrm", "deepbench"]);
        }

        return options;
    }

    /// <summary>The arguments that make a child process measure the same layers with uncapped oneDNN.</summary>
    public IEnumerable<string> ChildArguments(IEnumerable<string> suitePaths, string architecturePath)
    {
        foreach (var suite in suitePaths)
        {
            yield return "--suite";
            yield return suite;
        }

        yield return "--arch";
        yield return architecturePath;
        yield return "--plan";
        yield return FromMapping ? "mapping" : "heuristic";
        if (Records is not null)
        {
            yield return "--records";
            yield return Records;
        }
        if (Only is not null)
        {
            yield return "--only";
            yield return Only.ToString();
        }

        if (Threads is { } threads)
        {
            yield return "--threads";
            yield return threads.ToString(CultureInfo.InvariantCulture);
        }

        yield return "--min-time";
        yield return MinTime.ToString(CultureInfo.InvariantCulture);
        yield return "--max-reps";
        yield return MaxReps.ToString(CultureInfo.InvariantCulture);
        yield return "--seed";
        yield return Seed.ToString(CultureInfo.InvariantCulture);
        yield return "--output";
        yield return Out;
        yield return "--child-uncapped";
    }
}
