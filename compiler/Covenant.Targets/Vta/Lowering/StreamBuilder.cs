using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>Addresses only known once the image is laid out: patched when the stream is flattened.</summary>
internal enum Fixup
{
    None,

    /// <summary>dram_base = (zero region + 0) / element bytes.</summary>
    Zeros,

    /// <summary>dram_base = (uop region + offset of kernel <see cref="Item.Kernel"/>) / 4.</summary>
    Kernel,
}

/// <summary>One instruction of a group, with the fix-up its address needs.</summary>
internal sealed class Item(VtaInstruction instruction, Fixup fixup = Fixup.None, int kernel = -1)
{
    public VtaInstruction Instruction { get; set; } = instruction;

    public Fixup Fixup { get; } = fixup;

    public int Kernel { get; } = kernel;
}

/// <summary>
/// A run of instructions of one module that waits, as a whole, for groups of the neighboring modules
/// (<see cref="Deps"/>). Tokens are derived from these dependencies (<see cref="StreamBuilder.Flatten"/>).
/// </summary>
internal sealed class Group(VtaModule module, string comment, int order)
{
    public VtaModule Module { get; } = module;

    public string Comment { get; } = comment;

    /// <summary>Position in generation (stream) order.</summary>
    public int Order { get; } = order;

    /// <summary>Position among the groups of its module.</summary>
    public int Seq { get; set; }

    public List<Item> Items { get; } = [];

    public List<Group> Deps { get; } = [];

    public bool[] Pop { get; } = new bool[4];

    public bool[] Push { get; } = new bool[4];

    public void DependOn(Group? group)
    {
        if (group is not null && group.Module != Module)
        {
            Deps.Add(group);
        }
    }
}

/// <summary>
/// Collects groups in stream order and turns their dependencies into dependency tokens. For each token queue
/// (producer P → consumer C) a consumer group that needs P's group #n pops one token, which P's group #n pushes
/// after its last instruction; needs are taken as a running maximum (a token from group #n also vouches for every
/// earlier group of P, as modules run in order), so every pushed token is popped exactly once and FIFO order holds.
/// Every dependency points to a group earlier in the stream, so executing the stream in order is a valid schedule:
/// no deadlock.
/// </summary>
internal sealed class StreamBuilder
{
    private readonly List<Group> groups = [];

    public IReadOnlyList<Group> Groups => groups;

    public Group NewGroup(VtaModule module, string comment)
    {
        var group = new Group(module, comment, groups.Count);
        groups.Add(group);
        return group;
    }

    /// <summary>The last group of <paramref name="module"/> that has instructions, or null.</summary>
    public Group? LastOf(VtaModule module) => groups.LastOrDefault(g => g.Module == module && g.Items.Count > 0);

    private static readonly (VtaQueue Queue, VtaModule Producer, VtaModule Consumer)[] Queues =
    [
        (VtaQueue.LoadToCompute, VtaModule.Load, VtaModule.Compute),
        (VtaQueue.ComputeToLoad, VtaModule.Compute, VtaModule.Load),
        (VtaQueue.StoreToCompute, VtaModule.Store, VtaModule.Compute),
        (VtaQueue.ComputeToStore, VtaModule.Compute, VtaModule.Store),
    ];

    /// <summary>Derives the tokens (see the class comment).</summary>
    public void AssignTokens()
    {
        // Empty groups take no part: drop their dependencies onto the next group of the same module.
        var byModule = new Dictionary<VtaModule, List<Group>>();
        var carried = new Dictionary<VtaModule, List<Group>>();
        foreach (var g in groups)
        {
            if (!carried.TryGetValue(g.Module, out var pending))
            {
                carried[g.Module] = pending = [];
            }

            if (g.Items.Count == 0)
            {
                pending.AddRange(g.Deps);
                continue;
            }

            g.Deps.AddRange(pending);
            pending.Clear();
            if (!byModule.TryGetValue(g.Module, out var list))
            {
                byModule[g.Module] = list = [];
            }

            g.Seq = list.Count;
            list.Add(g);
        }

        foreach (var (queue, producer, consumer) in Queues)
        {
            if (!byModule.TryGetValue(consumer, out var consumers) || !byModule.TryGetValue(producer, out var producers))
            {
                continue;
            }

            var reached = -1;
            foreach (var c in consumers)
            {
                var need = -1;
                foreach (var d in c.Deps.Where(d => d.Module == producer))
                {
                    // A dependency on an empty group means: on the last non-empty group before it.
                    var target = d.Items.Count > 0 ? d : producers.LastOrDefault(p => p.Order < d.Order);
                    if (target is null)
                    {
                        continue;
                    }

                    if (target.Order > c.Order)
                    {
                        throw new InvalidOperationException($"group '{c.Comment}' depends on the later group '{target.Comment}'");
                    }

                    need = Math.Max(need, target.Seq);
                }

                if (need > reached)
                {
                    reached = need;
                    c.Pop[(int)queue] = true;
                    producers[need].Push[(int)queue] = true;
                }
            }
        }
    }

    /// <summary>
    /// The instruction stream with token flags set and addresses fixed up, and a listing: each group's comment,
    /// then its instructions. Groups that must pop before an instruction that cannot carry pops (FINISH) get a NOP.
    /// </summary>
    public (ImmutableArray<VtaInstruction> Program, string Listing) Flatten(
        Func<Item, VtaInstruction> fixup, VtaEncoder? encoder, string header)
    {
        var program = ImmutableArray.CreateBuilder<VtaInstruction>();
        var listing = new StringBuilder(header);
        foreach (var g in groups)
        {
            if (g.Items.Count == 0)
            {
                continue;
            }

            var items = g.Items.Select(fixup).ToList();
            var pops = new VtaDeps(
                PopPrev: g.Module switch
                {
                    VtaModule.Compute => g.Pop[(int)VtaQueue.LoadToCompute],
                    VtaModule.Store => g.Pop[(int)VtaQueue.ComputeToStore],
                    _ => false,
                },
                PopNext: g.Module switch
                {
                    VtaModule.Load => g.Pop[(int)VtaQueue.ComputeToLoad],
                    VtaModule.Compute => g.Pop[(int)VtaQueue.StoreToCompute],
                    _ => false,
                });
            if (pops.Any)
            {
                if (items[0] is VtaFinish)
                {
                    items.Insert(0, VtaLoad.Nop(g.Module, default));
                }

                items[0] = items[0] with { Deps = items[0].Deps with { PopPrev = pops.PopPrev, PopNext = pops.PopNext } };
            }

            var pushPrev = g.Module switch
            {
                VtaModule.Compute => g.Push[(int)VtaQueue.ComputeToLoad],
                VtaModule.Store => g.Push[(int)VtaQueue.StoreToCompute],
                _ => false,
            };
            var pushNext = g.Module switch
            {
                VtaModule.Load => g.Push[(int)VtaQueue.LoadToCompute],
                VtaModule.Compute => g.Push[(int)VtaQueue.ComputeToStore],
                _ => false,
            };
            if (pushPrev || pushNext)
            {
                var last = items.Count - 1;
                if (items[last] is VtaFinish)
                {
                    throw new InvalidOperationException("FINISH cannot push a token");
                }

                items[last] = items[last] with { Deps = items[last].Deps with { PushPrev = pushPrev, PushNext = pushNext } };
            }

            listing.Append("; ").Append(g.Comment).Append('\n');
            foreach (var instruction in items)
            {
                listing.Append(string.Create(CultureInfo.InvariantCulture, $"{program.Count,6}  {VtaDependencyRules.Name(instruction.Module),-7}  "));
                if (encoder is not null)
                {
                    listing.Append(VtaDecoder.Hex(encoder.EncodeBits(instruction))).Append("  ");
                }

                listing.Append(VtaDisassembler.Format(instruction)).Append('\n');
                program.Add(instruction);
            }
        }

        return (program.ToImmutable(), listing.ToString());
    }
}

/// <summary>Distinct micro-op kernels, as they are laid out in the DRAM uop region.</summary>
internal sealed class KernelTable
{
    private readonly List<VtaUop[]> kernels = [];
    private readonly List<long> offsets = [];
    private readonly Dictionary<string, int> index = new(StringComparer.Ordinal);
    private long total;

    public int Count => kernels.Count;

    public long TotalUops => total;

    public int Length(int kernel) => kernels[kernel].Length;

    /// <summary>Offset of a kernel in the uop region, in micro-ops.</summary>
    public long Offset(int kernel) => offsets[kernel];

    public int Add(VtaUop[] uops)
    {
        var key = string.Join(",", uops.Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.Dst}.{u.Src}.{u.Wgt}")));
        if (index.TryGetValue(key, out var id))
        {
            return id;
        }

        id = kernels.Count;
        kernels.Add(uops);
        offsets.Add(total);
        total += uops.Length;
        index[key] = id;
        return id;
    }

    public ImmutableArray<VtaUop> All() => [.. kernels.SelectMany(k => k)];
}

/// <summary>
/// Which kernels are in the micro-op buffer: placed first-fit from a moving pointer that wraps to the start (as
/// TVM's runtime does), evicting the kernels a new one overlaps. Slots below <paramref name="reserved"/> are kept
/// for kernels loaded once at the start.
/// </summary>
internal sealed class UopCache
{
    private readonly Dictionary<int, (int Slot, int Length)> resident = [];
    private readonly int depth;
    private readonly int reserved;
    private int next;

    public UopCache(int depth, int reserved)
    {
        this.depth = depth;
        this.reserved = reserved;
        next = reserved;
    }

    /// <summary>The slot of <paramref name="kernel"/>; <paramref name="load"/> tells whether it must be loaded first.</summary>
    public int Place(int kernel, int length, out bool load)
    {
        if (resident.TryGetValue(kernel, out var placed))
        {
            load = false;
            return placed.Slot;
        }

        if (length > depth - reserved)
        {
            throw new InvalidOperationException($"a kernel of {length} micro-ops does not fit the micro-op buffer ({depth - reserved} free)");
        }

        if (next + length > depth)
        {
            next = reserved;
        }

        var start = next;
        foreach (var k in resident.Where(p => p.Value.Slot < start + length && start < p.Value.Slot + p.Value.Length).Select(p => p.Key).ToList())
        {
            resident.Remove(k);
        }

        resident[kernel] = (start, length);
        next = start + length;
        load = true;
        return start;
    }
}

/// <summary>
/// Tracks the ACC rows the last two micro-ops executed on the compute module wrote, across instruction boundaries,
/// and says when the next instruction would touch one of them too soon (vta-isa.md §6.6): then a spacer (a reset of
/// two scratch rows) goes in between.
/// </summary>
internal sealed class HazardGuard(int scratch0, int scratch1)
{
    private long last = -1;
    private long beforeLast = -1;

    public bool NeedsSpacer(VtaLoopInstruction instruction, IReadOnlyList<VtaUop> kernel)
    {
        var total = instruction.UopCount;
        if (total == 0)
        {
            return false;
        }

        bool Touches(long position, long row)
        {
            if (row < 0 || row == scratch0 || row == scratch1)
            {
                return false;
            }

            var (dst, src) = Rows(instruction, kernel, position);
            return dst == row || (src >= 0 && src == row);
        }

        return Touches(0, last) || Touches(0, beforeLast) || (total > 1 && Touches(1, last));
    }

    public void Executed(VtaLoopInstruction instruction, IReadOnlyList<VtaUop> kernel)
    {
        var total = instruction.UopCount;
        if (total >= 2)
        {
            beforeLast = Rows(instruction, kernel, total - 2).Dst;
            last = Rows(instruction, kernel, total - 1).Dst;
        }
        else if (total == 1)
        {
            beforeLast = last;
            last = Rows(instruction, kernel, 0).Dst;
        }
    }

    /// <summary>The ACC row written and the ACC row read as a source (ALU without immediate; else -1) at a position of the sequence.</summary>
    private static (long Dst, long Src) Rows(VtaLoopInstruction instruction, IReadOnlyList<VtaUop> kernel, long position)
    {
        var n = instruction.UopEnd - instruction.UopBegin;
        var u = (int)(position % n);
        var block = position / n;
        var j = block % instruction.IterIn;
        var i = block / instruction.IterIn;
        var uop = kernel[u];
        var dst = uop.Dst + (i * instruction.DstFactorOut) + (j * instruction.DstFactorIn);
        var src = instruction is VtaAlu { UseImm: false }
            ? uop.Src + (i * instruction.SrcFactorOut) + (j * instruction.SrcFactorIn)
            : -1;
        return (dst, src);
    }
}
