using System.Collections.Immutable;
using System.Numerics;
using Covenant.Codelets;
using Covenant.Codelets.Semantics;
using Covenant.Runtime.Artifacts;

namespace Covenant.Runtime.Vta;

/// <summary>
/// Checks a <see cref="VtaMemoryMap"/> read from an artifact before the runtime sizes or fills a DRAM image from it:
/// the image is at most <see cref="MaxImageBytes"/> long at a non-negative aligned base; every region lies inside it;
/// each input and output of the codelet instance has exactly one region whose layout has the tensor's element type and
/// shape; and every element a layout places lands inside its region. After this, packing and unpacking cannot index
/// outside the image, overflow or divide by zero.
/// </summary>
public static class VtaMemoryMapChecks
{
    /// <summary>The largest DRAM image <c>run</c> allocates (the simulator holds it in memory; VTA boards have less).</summary>
    public const long MaxImageBytes = 1L << 30;

    /// <summary>Physical addresses stay below this (far above any board's; keeps address arithmetic from overflowing).</summary>
    public const long MaxAddress = 1L << 48;

    public static void Check(VtaMemoryMap map, CodeletInstance instance, ArtifactFileCheck check)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(check);
        if (!check.Require(map.Alignment is > 0 and <= 1 << 20 && BitOperations.IsPow2(map.Alignment), "$.alignment",
                $"the alignment is {map.Alignment}, not a power of two")
            || !check.Require(map.SizeBytes is > 0 and <= MaxImageBytes, "$.sizeBytes",
                $"the DRAM image is {map.SizeBytes} bytes; an image has between 1 and {MaxImageBytes} bytes")
            || !check.Require(map.PhysicalBase >= 0 && map.PhysicalBase < MaxAddress && map.PhysicalBase % map.Alignment == 0, "$.physicalBase",
                $"the image's base address {map.PhysicalBase} is not a non-negative multiple of the alignment {map.Alignment} below 2^48")
            || !check.Require(!map.Regions.IsDefault, "$.regions", "there are no regions"))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < map.Regions.Length; i++)
        {
            var at = $"$.regions[{i}]";
            if (map.Regions[i] is not { } region)
            {
                check.Wrong(at, "the region is null");
            }
            else if (CheckRegion(map, region, at, check) && !seen.Add(region.Name))
            {
                check.Wrong($"{at}.name", $"a second region is called '{region.Name}'");
            }
        }

        if (!check.Failed)
        {
            CheckTensors(map, instance, check);
        }
    }

    /// <summary>The micro-op kernels (<paramref name="uops"/> of them) fit the uops region they are written to.</summary>
    public static void CheckUops(VtaMemoryMap map, int uops, int uopBytes, ArtifactFileCheck check)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(check);
        var index = Enumerable.Range(0, map.Regions.Length).FirstOrDefault(i => map.Regions[i].Kind == VtaRegionKind.Uops, -1);
        if (uops > 0)
        {
            _ = check.Require(index >= 0, "$.regions", $"no region holds the {uops} micro-ops of uops.bin")
                && check.Require((long)uops * uopBytes <= map.Regions[index].SizeBytes, $"$.regions[{index}].sizeBytes",
                    $"the uops region holds {map.Regions[index].SizeBytes} bytes, less than the {(long)uops * uopBytes} of uops.bin's micro-ops");
        }
    }

    private static bool CheckRegion(VtaMemoryMap map, VtaDramRegion region, string at, ArtifactFileCheck check)
    {
        var end = map.PhysicalBase + map.SizeBytes;
        return check.Require(!string.IsNullOrEmpty(region.Name), $"{at}.name", "the region has no name")
            && check.Require(Enum.IsDefined(region.Kind), $"{at}.kind", $"'{region.Kind}' is not a kind of region")
            && check.Require(region.Address >= map.PhysicalBase && region.Address <= end && (region.Address - map.PhysicalBase) % map.Alignment == 0,
                $"{at}.address", $"address {region.Address} is not an aligned address in the DRAM image [{map.PhysicalBase}, {end})")
            && check.Require(region.SizeBytes >= 0 && region.SizeBytes <= end - region.Address, $"{at}.sizeBytes",
                $"{region.SizeBytes} bytes at {region.Address} do not fit the DRAM image [{map.PhysicalBase}, {end})");
    }

    /// <summary>Each input and output of the instance has one region, of its kind, laid out for its type and shape.</summary>
    private static void CheckTensors(VtaMemoryMap map, CodeletInstance instance, ArtifactFileCheck check)
    {
        for (var i = 0; i < map.Regions.Length; i++)
        {
            var region = map.Regions[i];
            if (region.Kind is not (VtaRegionKind.Input or VtaRegionKind.Output))
            {
                continue;
            }

            var role = region.Kind == VtaRegionKind.Input ? TensorRole.Input : TensorRole.Output;
            var tensor = instance.Tensors.FirstOrDefault(t => t.Name == region.Name && t.Role == role);
            if (tensor is null)
            {
                check.Disagrees($"$.regions[{i}].name", $"codelet '{instance.Name}' has no {role.ToString().ToLowerInvariant()} '{region.Name}'");
            }
            else if (region.Layout is null)
            {
                check.Wrong($"$.regions[{i}].layout", $"{region.Kind.ToString().ToLowerInvariant()} region '{region.Name}' has no layout");
            }
            else
            {
                CheckLayout(region, tensor, $"$.regions[{i}].layout", check);
            }
        }

        foreach (var tensor in instance.Inputs.Concat(instance.Outputs))
        {
            var kind = tensor.Role == TensorRole.Input ? VtaRegionKind.Input : VtaRegionKind.Output;
            check.Require(map.Regions.Count(r => r.Name == tensor.Name && r.Kind == kind) == 1, "$.regions",
                $"{kind.ToString().ToLowerInvariant()} '{tensor.Name}' needs exactly one region");
        }
    }

    private static void CheckLayout(VtaDramRegion region, TensorInstance tensor, string at, ArtifactFileCheck check)
    {
        var layout = region.Layout!;
        if (!check.Require(layout.Tensor is not null, $"{at}.tensor", "the layout names no tensor"))
        {
            return;
        }

        var shape = layout.Shape.IsDefault ? "none" : $"[{string.Join(", ", layout.Shape)}]";
        if (layout.ElementType != tensor.ElementType.Name() || layout.Shape.IsDefault || !layout.Shape.SequenceEqual(tensor.Shape))
        {
            check.Disagrees(at, $"'{region.Name}' is laid out as {layout.ElementType ?? "no type"}{shape}, but the codelet with the bindings in artifact.json makes it " +
                $"{tensor.ElementType.Name()}[{string.Join(", ", tensor.Shape)}]");
            return;
        }

        if (!check.Require(layout.StoredBytes is 1 or 4, $"{at}.storedBytes", $"{layout.StoredBytes} bytes per element; a layout stores 1 or 4")
            || !check.Require(layout.Planes is >= 1 and <= 4, $"{at}.planes", $"{layout.Planes} byte planes; a layout has 1 to 4")
            || !check.Require(layout.PlaneBytes >= 0 && layout.PlaneBytes <= region.SizeBytes / layout.Planes, $"{at}.planeBytes",
                $"{layout.Planes} planes of {layout.PlaneBytes} bytes do not fit the region's {region.SizeBytes} bytes")
            || !CheckParts(layout, at, check)
            || !CheckLevels(layout, at, check))
        {
            return;
        }

        // Every element's offset is below the product of the extents; that many elements must fit a plane.
        var elements = 1L;
        foreach (var level in layout.Levels)
        {
            elements = level.Extent <= MaxImageBytes / elements ? elements * level.Extent : MaxImageBytes + 1;
        }

        check.Require(elements <= layout.PlaneBytes / layout.StoredBytes, $"{at}.levels",
            $"the levels span {elements} elements of {layout.StoredBytes} bytes, more than a plane's {layout.PlaneBytes} bytes");
    }

    private static bool CheckParts(VtaTensorLayout layout, string at, ArtifactFileCheck check)
    {
        if (!check.Require(!layout.Parts.IsDefault, $"{at}.parts", "the layout has no parts"))
        {
            return false;
        }

        for (var p = 0; p < layout.Parts.Length; p++)
        {
            var part = layout.Parts[p];
            var where = $"{at}.parts[{p}]";
            if (!check.Require(part is not null, where, "the part is null")
                || !check.Require(part!.Dim >= 0 && part.Dim < layout.Shape.Length, $"{where}.dim", $"dimension {part.Dim} of a rank-{layout.Shape.Length} tensor")
                || !check.Require(part.Divisor >= 1, $"{where}.divisor", $"divisor {part.Divisor} is not positive")
                || !check.Require(part.Modulus >= 0, $"{where}.modulus", $"modulus {part.Modulus} is negative"))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Each level's field in range and its largest position (over the tensor's shape) below its extent.</summary>
    private static bool CheckLevels(VtaTensorLayout layout, string at, ArtifactFileCheck check)
    {
        if (!check.Require(!layout.Levels.IsDefault, $"{at}.levels", "the layout has no levels"))
        {
            return false;
        }

        var largestPart = layout.Parts.Select(p => Largest(layout.Shape[p.Dim] - 1L, p.Divisor, p.Modulus)).ToImmutableArray();
        for (var l = 0; l < layout.Levels.Length; l++)
        {
            var level = layout.Levels[l];
            var where = $"{at}.levels[{l}]";
            if (!check.Require(level is not null, where, "the level is null")
                || !check.Require(level!.Part >= -1 && level.Part < layout.Parts.Length, $"{where}.part", $"part {level.Part} of {layout.Parts.Length}")
                || !check.Require(level.Divisor >= 1, $"{where}.divisor", $"divisor {level.Divisor} is not positive")
                || !check.Require(level.Modulus >= 0, $"{where}.modulus", $"modulus {level.Modulus} is negative")
                || !check.Require(level.Extent >= 1, $"{where}.extent", $"extent {level.Extent} is not positive"))
            {
                return false;
            }

            var largest = level.Part < 0 ? 0 : Largest(largestPart[level.Part], level.Divisor, level.Modulus);
            if (!check.Require(largest < level.Extent, $"{where}.extent", $"positions reach {largest}, beyond the extent {level.Extent}"))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The largest <c>(x / divisor) mod modulus</c> (no modulus when 0) for x in [0, max].</summary>
    private static long Largest(long max, long divisor, long modulus) => modulus > 0 ? Math.Min(max / divisor, modulus - 1) : max / divisor;
}
