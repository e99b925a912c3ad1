using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

using Covenant.Runtime.Execution;

namespace Covenant.Runtime.Vta;

/// <summary>
/// A <see cref="VtaProgram"/> as files in a directory:
/// <list type="bullet">
/// <item><c>program.bin</c>: the instruction stream, 16 bytes per instruction, little-endian (vta-isa.md §2).</item>
/// <item><c>uops.bin</c>: the micro-op kernels, 4 bytes each, exactly as the DRAM uop region holds them.</item>
/// <item><c>memory-map.json</c>: the <see cref="VtaMemoryMap"/> (image base, regions, tensor layouts).</item>
/// <item><c>program.json</c>: the codelet name, the <see cref="VtaConfig"/> the stream was lowered for, and the summary.</item>
/// <item><c>listing.txt</c>: the readable listing.</item>
/// </list>
/// JSON uses camelCase names and enum names as strings; computed properties are not written.
/// </summary>
public static class VtaProgramFiles
{
    public const string ProgramFile = "program.bin";
    public const string UopsFile = "uops.bin";
    public const string MemoryMapFile = "memory-map.json";
    public const string ProgramInfoFile = "program.json";
    public const string ListingFile = "listing.txt";

    public static JsonSerializerOptions JsonOptions { get; } = CreateOptions();

    public static void Save(VtaProgram program, string directory)
    {
        ArgumentNullException.ThrowIfNull(program);
        Directory.CreateDirectory(directory);
        var encoder = new VtaEncoder(program.Config);
        File.WriteAllBytes(Path.Combine(directory, ProgramFile), encoder.EncodeProgram(program.Instructions));
        File.WriteAllBytes(Path.Combine(directory, UopsFile), encoder.EncodeUops(program.Uops));
        File.WriteAllText(Path.Combine(directory, MemoryMapFile), JsonSerializer.Serialize(program.MemoryMap, JsonOptions));
        File.WriteAllText(Path.Combine(directory, ProgramInfoFile), JsonSerializer.Serialize(new ProgramInfo(program.Codelet, program.Config, program.Summary), JsonOptions));
        File.WriteAllText(Path.Combine(directory, ListingFile), program.Listing);
    }

    public static VtaProgram Load(string directory)
    {
        var files = ArtifactFiles.InDirectory(directory);
        return Load(name => name != ListingFile || files.Exists(name) ? files.ReadBytes(name) : null);
    }

    /// <summary>Reads the program through <paramref name="readFile"/> (a file's bytes by name, null when it is absent), so an artifact held in memory loads too.</summary>
    public static VtaProgram Load(Func<string, byte[]?> readFile)
    {
        ArgumentNullException.ThrowIfNull(readFile);
        byte[] Required(string name) => readFile(name) ?? throw new FileNotFoundException($"the artifact has no {name}", name);
        var info = JsonSerializer.Deserialize<ProgramInfo>(Required(ProgramInfoFile), JsonOptions)
            ?? throw new InvalidDataException($"{ProgramInfoFile} is empty");
        var map = JsonSerializer.Deserialize<VtaMemoryMap>(Required(MemoryMapFile), JsonOptions)
            ?? throw new InvalidDataException($"{MemoryMapFile} is empty");
        var decoder = new VtaDecoder(info.Config);
        var instructions = decoder.DecodeProgram(Required(ProgramFile));
        var uops = decoder.DecodeUops(Required(UopsFile));
        var listing = readFile(ListingFile) is { } text ? System.Text.Encoding.UTF8.GetString(text) : VtaDisassembler.Listing(instructions);
        return new VtaProgram(info.Codelet, info.Config, instructions, uops, map, listing, info.Summary);
    }

    /// <summary>What <c>program.json</c> holds.</summary>
    public sealed record ProgramInfo(string Codelet, VtaConfig Config, VtaProgramSummary Summary);

    private static JsonSerializerOptions CreateOptions()
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(info =>
        {
            if (info.Kind != JsonTypeInfoKind.Object)
            {
                return;
            }

            // Computed (get-only) properties are derived data: leave them out.
            for (var i = info.Properties.Count - 1; i >= 0; i--)
            {
                if (info.Properties[i].Set is null && info.Properties[i].AssociatedParameter is null)
                {
                    info.Properties.RemoveAt(i);
                }
            }
        });
        return new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
            TypeInfoResolver = resolver,
        };
    }
}
