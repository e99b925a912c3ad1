using System.Globalization;
using System.Text;

namespace Covenant.Cli.Tests.Fuzz;

/// <summary>
/// Architectures written from scratch by a small grammar of valid-looking graphs: a VTA-like, a VNNI-like or a
/// TensorCore-like accelerator with random block sizes, buffer capacities, counts, bandwidths, operation subsets and
/// element types (so many pass <c>arch check</c> and reach the mapper and the target passes), or a free-form graph
/// of DRAM, a few buffers and one compute node with one to three capabilities.
/// </summary>
public static class ArchitectureGenerator
{
    private static readonly (string Name, string Semantics, bool Imm)[] AluOps =
    [
        ("min", "dst[{0}] = min(dst[{0}], src[{0}])", false), ("max", "dst[{0}] = max(dst[{0}], src[{0}])", false),
        ("add", "dst[{0}] = dst[{0}] + src[{0}]", false), ("shr", "dst[{0}] = dst[{0}] >> src[{0}]", false),
        ("min_imm", "dst[{0}] = min(dst[{0}], imm)", true), ("max_imm", "dst[{0}] = max(dst[{0}], imm)", true),
        ("add_imm", "dst[{0}] = dst[{0}] + imm", true), ("shr_imm", "dst[{0}] = dst[{0}] >> imm", true),
    ];

    public static (string Text, string How) Generate(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.Next(4) switch
        {
            0 => Vta(random),
            1 => Vnni(random),
            2 => TensorCore(random),
            _ => FreeForm(random),
        };
    }

    private static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];

    private static string Size(long bytes) => bytes % (1 << 30) == 0 ? $"{bytes >> 30} GiB"
        : bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes % 1024 == 0 ? $"{bytes >> 10} KiB" : $"{bytes} B";

    private static (string Text, string How) Vta(Random random)
    {
        var batch = Pick(random, 1, 1, 1, 2, 4);
        var blockIn = Pick(random, 4, 8, 16, 16, 32, 64);
        var blockOut = random.Next(3) == 0 ? Pick(random, 4, 8, 16, 32) : blockIn;
        var rows = Pick(random, 64, 256, 1024, 2048, 4096);
        var bus = Pick(random, 4, 8, 16, 32);
        var ops = AluOps.Where(_ => random.Next(3) > 0).ToList();
        var accType = random.Next(8) == 0 ? "i8" : "i32";
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"name: gen-vta-{batch}x{blockOut}x{blockIn}");
        s.AppendLine(random.Next(10) == 0 ? "target: vnni" : "target: vta");
        s.AppendLine("clock: 100 MHz");
        s.AppendLine("nodes:");
        s.AppendLine("  dram: {kind: storage, offchip: true, capacity: 512 MiB}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  uop_buf: {{kind: storage, capacity: {Size(4L * Pick(random, 1024, 8192, 16384))}, line: 4 B, holds: microcode}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  inp_buf: {{kind: storage, capacity: {Size((long)rows * batch * blockIn)}, element: {{type: i8, shape: [{batch}, {blockIn}]}}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  wgt_buf: {{kind: storage, capacity: {Size((long)Pick(random, 16, 256, 1024) * blockOut * blockIn)}, element: {{type: i8, shape: [{blockOut}, {blockIn}]}}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  acc_buf: {{kind: storage, capacity: {Size((long)rows * batch * blockOut * 4)}, element: {{type: {accType}, shape: [{batch}, {blockOut}]}}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  out_buf: {{kind: storage, capacity: {Size((long)rows * batch * blockOut)}, element: {{type: i8, shape: [{batch}, {blockOut}]}}}}");
        s.AppendLine("  gemm:");
        s.AppendLine("    kind: compute");
        s.AppendLine("    capabilities:");
        s.AppendLine("      gemm:");
        s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{Pick(random, "acc[i, j] += inp[i, k] * wgt[j, k]", "acc[i, j] += inp[i, k] * wgt[j, k]", "acc[i, j] += inp[i, k] * wgt[k, j]")}\"");
        s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{i: {batch}, j: {blockOut}, k: {blockIn}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"        operands: {{inp: {{type: i8, storage: inp_buf}}, wgt: {{type: i8, storage: wgt_buf}}, acc: {{type: {accType}, storage: acc_buf}}}}");
        s.AppendLine("        latency: 5");
        s.AppendLine("        interval: 1");
        if (random.Next(4) > 0)
        {
            s.AppendLine("      gemm_reset:");
            s.AppendLine("        semantics: \"acc[i, j] = 0\"");
            s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{i: {batch}, j: {blockOut}}}");
            s.AppendLine(CultureInfo.InvariantCulture, $"        operands: {{acc: {{type: {accType}, storage: acc_buf}}}}");
            s.AppendLine("        latency: 1");
            s.AppendLine("        interval: 1");
        }

        if (ops.Count > 0)
        {
            s.AppendLine("  alu:");
            s.AppendLine("    kind: compute");
            s.AppendLine("    capabilities:");
            foreach (var (name, semantics, imm) in ops)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"      {name}:");
                s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{string.Format(CultureInfo.InvariantCulture, semantics, "i, j")}\"");
                s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{i: {batch}, j: {blockOut}}}");
                s.AppendLine(imm
                    ? "        operands: {dst: {type: i32, storage: acc_buf}}"
                    : "        operands: {dst: {type: i32, storage: acc_buf}, src: {type: i32, storage: acc_buf}}");
                if (imm)
                {
                    s.AppendLine(name == "shr_imm" ? "        immediates: {imm: {type: i32, min: 0, max: 31}}" : $"        immediates: {{imm: {{type: i32, min: {-(1 << random.Next(4, 16))}, max: {(1 << random.Next(4, 16)) - 1}}}}}");
                }

                s.AppendLine("        latency: 4");
                s.AppendLine("        interval: 2");
            }
        }

        s.AppendLine("edges:");
        foreach (var (from, to, transfer) in new[]
                 {
                     ("dram", "uop_buf", "vta.load.uop"), ("dram", "inp_buf", "vta.load.inp"), ("dram", "wgt_buf", "vta.load.wgt"),
                     ("dram", "acc_buf", "vta.load.acc"), ("out_buf", "dram", "vta.store.out"),
                 })
        {
            if (random.Next(12) > 0)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: {from}, to: {to}, bandwidth: {bus} B/cycle, latency: 32, transfer: {transfer}}}");
            }
        }

        foreach (var (from, to) in new[] { ("uop_buf", "gemm"), ("inp_buf", "gemm"), ("wgt_buf", "gemm"), ("acc_buf", "gemm"), ("gemm", "acc_buf"), ("gemm", "out_buf") }
                     .Concat(ops.Count > 0 ? [("uop_buf", "alu"), ("acc_buf", "alu"), ("alu", "acc_buf"), ("alu", "out_buf")] : []))
        {
            if (random.Next(15) > 0)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: {from}, to: {to}, bandwidth: {Pick(random, 2, 16, 64, 256)} B/cycle}}");
            }
        }

        return (s.ToString(), $"generated VTA-like {batch}x{blockOut}x{blockIn}, {rows} rows, {ops.Count} ALU ops, acc {accType}");
    }

    private static (string Text, string How) Vnni(Random random)
    {
        var lanes = Pick(random, 4, 8, 16, 16, 32);
        var depth = Pick(random, 4, 4, 2, 8);
        var registers = Pick(random, 8, 16, 32, 64);
        var width = lanes * 4;
        var cores = Pick(random, 1, 2, 4);
        var signed = random.Next(4) == 0;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"name: gen-vnni-{lanes}x{depth}");
        s.AppendLine(random.Next(10) == 0 ? "target: vta" : "target: vnni");
        s.AppendLine(CultureInfo.InvariantCulture, $"clock: {Pick(random, "3.65 GHz", "2 GHz", "1 GHz")}");
        s.AppendLine("nodes:");
        s.AppendLine("  dram: {kind: storage, offchip: true, capacity: 16 GiB}");
        if (random.Next(3) > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  l2: {{kind: storage, cache: true, capacity: {Pick(random, "256 KiB", "1 MiB", "2 MiB")}, line: 64 B, count: {cores}}}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"  l1d: {{kind: storage, cache: true, capacity: {Pick(random, "16 KiB", "32 KiB", "48 KiB")}, line: 64 B, count: {cores}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  zmm: {{kind: storage, register_file: true, capacity: {Size((long)registers * width)}, line: {width} B, count: {cores}}}");
        s.AppendLine("  core:");
        s.AppendLine("    kind: compute");
        s.AppendLine(CultureInfo.InvariantCulture, $"    count: {cores}");
        s.AppendLine("    capabilities:");
        s.AppendLine("      vpdpbusd:");
        s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{Pick(random, "c[j] += a[k] * b[j, k]", "c[j] += a[k] * b[j, k]", "c[j] += a[k] * b[k, j]")}\"");
        s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{j: {lanes}, k: {depth}}}");
        s.AppendLine(signed
            ? "        operands: {a: {type: i8, storage: zmm}, b: {type: i8, storage: zmm}, c: {type: i32, storage: zmm}}"
            : "        operands: {a: {type: u8, storage: zmm, accepts: i8}, b: {type: i8, storage: zmm}, c: {type: i32, storage: zmm}}");
        s.AppendLine("        latency: 4");
        s.AppendLine("        interval: 1");
        foreach (var (name, semantics, imm) in AluOps.Where(o => o.Name != "shr" && random.Next(3) > 0))
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"      {name}:");
            s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{string.Format(CultureInfo.InvariantCulture, semantics, "j")}\"");
            s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{j: {lanes}}}");
            s.AppendLine(imm ? "        operands: {dst: {type: i32, storage: zmm}}" : "        operands: {dst: {type: i32, storage: zmm}, src: {type: i32, storage: zmm}}");
            if (imm)
            {
                s.AppendLine(name == "shr_imm" ? "        immediates: {imm: {type: i32, min: 0, max: 31}}" : "        immediates: {imm: {type: i32}}");
            }

            s.AppendLine("        latency: 1");
            s.AppendLine(CultureInfo.InvariantCulture, $"        interval: {Pick(random, "0.5", "1", "2")}");
        }

        s.AppendLine("edges:");
        var top = s.ToString().Contains("  l2:", StringComparison.Ordinal) ? "l2" : "l1d";
        if (top == "l2")
        {
            s.AppendLine("  - {from: dram, to: l2, bandwidth: 26 GB/s, latency: 900, transfer: cache.fill}");
            s.AppendLine("  - {from: l2, to: dram, bandwidth: 25 GB/s, transfer: cache.writeback}");
            s.AppendLine("  - {from: l2, to: l1d, bandwidth: 32 B/cycle, latency: 14, transfer: cache.fill}");
            s.AppendLine("  - {from: l1d, to: l2, bandwidth: 32 B/cycle, transfer: cache.writeback}");
        }
        else
        {
            s.AppendLine("  - {from: dram, to: l1d, bandwidth: 20 GB/s, latency: 900, transfer: cache.fill}");
            s.AppendLine("  - {from: l1d, to: dram, bandwidth: 20 GB/s, transfer: cache.writeback}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: l1d, to: zmm, bandwidth: {width} B/cycle, latency: 7, transfer: vmovdqu64}}");
        if (random.Next(4) > 0)
        {
            s.AppendLine("  - {from: l1d, to: zmm, bandwidth: 8 B/cycle, latency: 8, transfer: vpbroadcastd}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: zmm, to: l1d, bandwidth: {width / 2} B/cycle, transfer: vmovdqu64}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: zmm, to: core, bandwidth: {width * 4} B/cycle}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: core, to: zmm, bandwidth: {width * 2} B/cycle}}");
        return (s.ToString(), $"generated VNNI-like {lanes} lanes x {depth}, {registers} registers, {cores} cores{(signed ? ", signed a" : "")}");
    }

    private static (string Text, string How) TensorCore(Random random)
    {
        var f16 = random.Next(2) == 0;
        var (m, n, k) = random.Next(3) > 0 ? (16, 8, f16 ? 16 : 32) : (Pick(random, 8, 16, 32), Pick(random, 8, 16), Pick(random, 8, 16, 32));
        var sms = Pick(random, 1, 4, 108);
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"name: gen-tc-m{m}n{n}k{k}");
        s.AppendLine("target: tensorcore");
        s.AppendLine("clock: 1410 MHz");
        s.AppendLine("nodes:");
        s.AppendLine("  hbm: {kind: storage, offchip: true, capacity: 80 GiB}");
        s.AppendLine("  l2: {kind: storage, cache: true, capacity: 40 MiB, line: 128 B}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  smem: {{kind: storage, capacity: {Pick(random, "16 KiB", "48 KiB", "164 KiB", "228 KiB")}, banks: 32, count: {sms}}}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  regs: {{kind: storage, register_file: true, capacity: {Pick(random, "16 KiB", "64 KiB", "256 KiB")}, line: 128 B, count: {sms}}}");
        s.AppendLine("  sm:");
        s.AppendLine("    kind: compute");
        s.AppendLine(CultureInfo.InvariantCulture, $"    count: {sms}");
        s.AppendLine("    capabilities:");
        var shapes = new List<(bool F16, int M, int N, int K)> { (f16, m, n, k) };
        if (random.Next(2) == 0)
        {
            shapes.Add((!f16, 16, 8, f16 ? 32 : 16));
        }

        foreach (var (half, mm, nn, kk) in shapes)
        {
            var (input, accumulator) = half ? ("f16", "f32") : ("i8", "i32");
            s.AppendLine(CultureInfo.InvariantCulture, $"      mma.sync.aligned.m{mm}n{nn}k{kk}{(half ? "" : ".s8")}:");
            s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{Pick(random, "d[i, j] += a[i, k] * b[k, j]", "d[i, j] += a[i, k] * b[k, j]", "d[i, j] += a[i, k] * b[j, k]")}\"");
            s.AppendLine(CultureInfo.InvariantCulture, $"        shape: {{i: {mm}, j: {nn}, k: {kk}}}");
            s.AppendLine(CultureInfo.InvariantCulture, $"        operands: {{a: {{type: {input}, storage: regs}}, b: {{type: {input}, storage: regs}}, d: {{type: {accumulator}, storage: regs}}}}");
            s.AppendLine("        latency: 33");
            s.AppendLine("        interval: 2");
        }

        s.AppendLine("edges:");
        s.AppendLine("  - {from: hbm, to: l2, bandwidth: 2039 GB/s, latency: 480, transfer: cache.fill}");
        s.AppendLine("  - {from: l2, to: hbm, bandwidth: 2039 GB/s, transfer: cache.writeback}");
        if (random.Next(6) > 0)
        {
            s.AppendLine("  - {from: l2, to: smem, bandwidth: 47 B/cycle, latency: 200, transfer: cp.async}");
        }

        s.AppendLine("  - {from: l2, to: regs, bandwidth: 47 B/cycle, latency: 200, transfer: ld.global}");
        s.AppendLine("  - {from: regs, to: l2, bandwidth: 47 B/cycle, transfer: st.global}");
        if (random.Next(6) > 0)
        {
            s.AppendLine("  - {from: smem, to: regs, bandwidth: 128 B/cycle, latency: 30, transfer: ldmatrix}");
        }

        s.AppendLine("  - {from: regs, to: smem, bandwidth: 128 B/cycle, latency: 23, transfer: st.shared}");
        s.AppendLine("  - {from: regs, to: sm, bandwidth: 640 B/cycle}");
        s.AppendLine("  - {from: sm, to: regs, bandwidth: 256 B/cycle}");
        return (s.ToString(), $"generated TensorCore-like m{m}n{n}k{k} {(f16 ? "f16" : "i8")}, {shapes.Count} shapes, {sms} SMs");
    }

    private static (string Text, string How) FreeForm(Random random)
    {
        string[] types = ["i8", "u8", "i32", "f16", "f32"];
        var buffers = random.Next(1, 4);
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"name: gen-free-{random.Next(1000)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"target: {Pick(random, "vta", "vnni", "tensorcore", "cpu")}");
        if (random.Next(2) == 0)
        {
            s.AppendLine("clock: 1 GHz");
        }

        s.AppendLine("nodes:");
        s.AppendLine(CultureInfo.InvariantCulture, $"  mem: {{kind: storage, offchip: true, capacity: {Pick(random, "1 GiB", "64 KiB", "1 B")}}}");
        var elementTypes = new string?[buffers];
        for (var b = 0; b < buffers; b++)
        {
            var lanes = 1 << random.Next(0, 7);
            elementTypes[b] = random.Next(3) == 0 ? Pick(random, types) : null;
            var kind = elementTypes[b] is { } elementType
                ? $"element: {{type: {elementType}, shape: [{(random.Next(2) == 0 ? "" : $"{1 << random.Next(3)}, ")}{lanes}]}}"
                : random.Next(2) == 0 ? $"line: {lanes} B" : $"register_file: true, line: {lanes * 4} B";
            s.AppendLine(CultureInfo.InvariantCulture, $"  buf{b}: {{kind: storage, capacity: {Size((long)lanes * 64 << random.Next(0, 10))}, {kind}}}");
        }

        // An operand goes to a buffer that holds its type, or to any buffer now and then (a mistake arch check must name).
        int StorageFor(string type)
        {
            var fitting = Enumerable.Range(0, buffers).Where(b => elementTypes[b] is null || elementTypes[b] == type).ToList();
            return fitting.Count > 0 && random.Next(10) > 0 ? fitting[random.Next(fitting.Count)] : random.Next(buffers);
        }

        s.AppendLine("  unit:");
        s.AppendLine("    kind: compute");
        s.AppendLine(CultureInfo.InvariantCulture, $"    count: {Pick(random, 1, 2, 3)}");
        s.AppendLine("    capabilities:");
        var capabilities = random.Next(1, 4);
        for (var c = 0; c < capabilities; c++)
        {
            var (semantics, operands) = Pick(random,
                ("c[i, j] += a[i, k] * b[k, j]", new[] { "a", "b", "c" }),
                ("c[i, j] += a[i, k] * b[j, k]", new[] { "a", "b", "c" }),
                ("c[j] += a[k] * b[j, k]", new[] { "a", "b", "c" }),
                ("c[i] += a[i] * b[i]", new[] { "a", "b", "c" }),
                ("y[i, j] = x[i, j]", new[] { "x", "y" }),
                ("dst[i] = max(dst[i], src[i])", new[] { "dst", "src" }));
            var axes = semantics.Contains('k', StringComparison.Ordinal) ? new[] { "i", "j", "k" } : semantics.Contains('j', StringComparison.Ordinal) ? ["i", "j"] : ["i"];
            var used = axes.Where(a => semantics.Contains(a + "]", StringComparison.Ordinal) || semantics.Contains(a + ",", StringComparison.Ordinal));
            var type = Pick(random, "i8", "f16", "i32");
            var wide = type switch { "i8" => "i32", "f16" => "f32", _ => type };
            s.AppendLine(CultureInfo.InvariantCulture, $"      op{c}:");
            s.AppendLine(CultureInfo.InvariantCulture, $"        semantics: \"{semantics}\"");
            s.AppendLine("        shape: {" + string.Join(", ", used.Select(a => $"{a}: {1 << random.Next(0, 6)}")) + "}");
            s.AppendLine("        operands: {" + string.Join(", ", operands.Select((o, i) =>
                $"{o}: {{type: {(i == operands.Length - 1 ? wide : type)}, storage: buf{StorageFor(i == operands.Length - 1 ? wide : type)}}}")) + "}");
            s.AppendLine(CultureInfo.InvariantCulture, $"        latency: {random.Next(0, 40)}");
            s.AppendLine(CultureInfo.InvariantCulture, $"        interval: {Pick(random, "1", "0.5", "2", "8")}");
        }

        s.AppendLine("edges:");
        for (var b = 0; b < buffers; b++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: mem, to: buf{b}, bandwidth: {1 << random.Next(0, 8)} B/cycle, latency: {random.Next(100)}, transfer: dma.load}}");
            if (random.Next(3) > 0)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: buf{b}, to: mem, bandwidth: 8 B/cycle, transfer: dma.store}}");
            }

            s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: buf{b}, to: unit, bandwidth: {1 << random.Next(0, 10)} B/cycle}}");
            s.AppendLine(CultureInfo.InvariantCulture, $"  - {{from: unit, to: buf{b}, bandwidth: {1 << random.Next(0, 10)} B/cycle}}");
        }

        return (s.ToString(), $"generated free-form graph, {buffers} buffers, {capabilities} capabilities");
    }
}
