using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Covenant.Core.Diagnostics;

namespace Covenant.Mapping.Search;

/// <summary>What a tuning record is about: a layer (codelet + bindings) on an architecture, each identified by content hash.</summary>
public sealed record LayerIdentity(
    string Layer,
    string Codelet,
    ImmutableSortedDictionary<string, long> Bindings,
    string LayerSignature,
    string Architecture,
    string ArchitectureHash)
{
    /// <summary>The identity of <paramref name="layer"/>: the codelet source text and the instance's sizes hashed together,
    /// and the architecture's YAML text hashed, so an edited codelet or architecture never reuses stale records.</summary>
    public static LayerIdentity Of(string layer, string codelet, string codeletText, IEnumerable<KeyValuePair<string, long>> bindings,
        string architecture, string architectureText)
    {
        var sorted = bindings.ToImmutableSortedDictionary(StringComparer.Ordinal);
        var shape = string.Join(",", sorted.Select(b => $"{b.Key}={b.Value}"));
        return new LayerIdentity(layer, codelet, sorted, Hash(codeletText + "\n--\n" + shape), architecture, Hash(architectureText));
    }

    /// <summary>The first 16 hex digits of the SHA-256 of the text with line endings normalized.</summary>
    public static string Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal)));
        return Convert.ToHexStringLower(bytes)[..16];
    }
}

/// <summary>
/// One line of a tuning log: a measured candidate. <see cref="Choice"/> holds the mapping as constraints that fix every
/// variable of the problem's tile space (re-solving them rebuilds the mapping); <see cref="Constraints"/> holds the
/// individual it was sampled from; <see cref="Tiles"/> is for people.
/// </summary>
public sealed record TuningRecord(
    int Version,
    string Layer,
    string Codelet,
    ImmutableSortedDictionary<string, long> Bindings,
    string LayerSignature,
    string Architecture,
    string ArchitectureHash,
    string Problem,
    ImmutableArray<string> Constraints,
    ImmutableArray<string> Choice,
    string Tiles,
    double? Measured,
    string? Failure,
    string Engine,
    double ModelCycles,
    double Predicted,
    bool IsDefault,
    int Trial,
    int Generation,
    double Seconds,
    uint Seed,
    DateTimeOffset Time)
{
    // 2: a choice may pin cache tiles (level(l2,k)=N), and the level tiler builds a loop streamed through a register
    // file on its step, so a version-1 choice no longer names the mapping that was measured. Older lines are skipped.
    public const int CurrentVersion = 2;

    public bool Matches(LayerIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return LayerSignature == identity.LayerSignature && ArchitectureHash == identity.ArchitectureHash;
    }
}

/// <summary>
/// A tuning log: JSON lines, appended and flushed one whole line at a time as trials finish, so an interrupted run
/// loses at most the trial in progress and never leaves half a record followed by more records. A torn last line (a
/// crash mid-write) is skipped on reading and the next append starts on a fresh line.
/// </summary>
public sealed class TuningLog : IDisposable
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Problem keys hold '<-' and '>': keep the lines readable (nothing here is embedded in HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly FileStream stream;

    private TuningLog(FileStream stream) => this.stream = stream;

    public string Path => stream.Name;

    /// <summary>Opens <paramref name="path"/> for appending (creating it and its folder).</summary>
    public static Result<TuningLog> Open(string path)
    {
        try
        {
            if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } folder)
            {
                Directory.CreateDirectory(folder);
            }

            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            // A torn last line must not swallow the next record.
            if (stream.Length > 0)
            {
                stream.Seek(-1, SeekOrigin.End);
                var last = stream.ReadByte();
                stream.Seek(0, SeekOrigin.End);
                if (last != '\n')
                {
                    stream.WriteByte((byte)'\n');
                }
            }

            return Result<TuningLog>.Success(new TuningLog(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<TuningLog>.Failure(CoreDiagnostics.OutputNotWritable.Create(SourceLocation.OfFile(path), e.Message));
        }
    }

    public void Append(TuningRecord record)
    {
        var line = Encoding.UTF8.GetBytes(Serialize(record) + "\n");
        // One write of the whole line, then to disk: a record is either all there or (crash mid-write) torn and last.
        stream.Write(line);
        stream.Flush(flushToDisk: true);
    }

    public static string Serialize(TuningRecord record) => JsonSerializer.Serialize(record, Options);

    /// <summary>Every record of the file (none when it does not exist), and the line numbers that did not parse.</summary>
    public static Result<TuningRecords> Read(string path)
    {
        if (!File.Exists(path))
        {
            return Result<TuningRecords>.Success(new TuningRecords([], []));
        }

        try
        {
            var records = ImmutableArray.CreateBuilder<TuningRecord>();
            var skipped = ImmutableArray.CreateBuilder<int>();
            var number = 0;
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (line.Length == 0)
                {
                    continue;
                }

                try
                {
                    if (JsonSerializer.Deserialize<TuningRecord>(line, Options) is { Version: TuningRecord.CurrentVersion } record
                        && record.Layer is not null && record.Choice is { IsDefault: false } && record.Problem is not null)
                    {
                        records.Add(record);
                        continue;
                    }
                }
                catch (JsonException)
                {
                }

                skipped.Add(number);
            }

            return Result<TuningRecords>.Success(new TuningRecords(records.ToImmutable(), skipped.ToImmutable()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Result<TuningRecords>.Failure(CoreDiagnostics.FileUnreadable.Create(SourceLocation.OfFile(path), e.Message));
        }
    }

    public void Dispose() => stream.Dispose();
}

/// <summary>The records of a log, and the lines that were not records (a torn last line after a crash, or damage).</summary>
public sealed record TuningRecords(ImmutableArray<TuningRecord> Records, ImmutableArray<int> SkippedLines)
{
    public IEnumerable<TuningRecord> For(LayerIdentity identity) => Records.Where(r => r.Matches(identity));

    /// <summary>The fastest measured record of a layer on an architecture, or null.</summary>
    public TuningRecord? Best(LayerIdentity identity) =>
        For(identity).Where(r => r.Measured is not null).OrderBy(r => r.Measured).ThenBy(r => r.Trial).FirstOrDefault();

    /// <summary>
    /// The layer's best record as a mapping for <see cref="MapperOptions.Pinned"/>, or null when it has no measured record
    /// or the record's choice no longer parses. <paramref name="logPath"/> names the log in the mapping's source.
    /// </summary>
    public PinnedMapping? Pin(LayerIdentity identity, string logPath)
    {
        var best = Best(identity);
        var choice = best is null ? null : SearchConstraint.ParseAll(best.Choice, SourceLocation.OfFile(logPath));
        return best is null || choice is not { Succeeded: true }
            ? null
            : new PinnedMapping(best.Problem, [.. choice.Value],
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{logPath} (layer {best.Layer}, trial {best.Trial}, {best.Measured:F0} {best.Engine})"));
    }
}
