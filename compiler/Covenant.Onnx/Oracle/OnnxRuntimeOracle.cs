using System.Collections.Immutable;
using System.Globalization;
using Covenant.Core.Diagnostics;
using Covenant.Onnx.Host;
using Covenant.Onnx.Import;
using Covenant.Onnx.Network;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Covenant.Onnx.Oracle;

/// <summary>One graph output of a network run compared with ONNX Runtime's.</summary>
/// <param name="Exact">Integer outputs are compared exactly; float ones within <paramref name="Bound"/>.</param>
/// <param name="Bound">For float outputs, the largest |covenant - ort| accepted (null for integer outputs).</param>
/// <param name="First">The first element out of bounds, for people ("" when all match).</param>
public sealed record OutputCheck(string Name, string Type, bool Exact, int Elements, int Mismatches, double WorstError, double? Bound, string First)
{
    public bool Matches => Mismatches == 0;
}

/// <summary>Every graph output of a network run against ONNX Runtime on the same inputs.</summary>
public sealed record NetworkCheck(string OrtVersion, double FloatTolerance, ImmutableArray<OutputCheck> Outputs, double Seconds)
{
    public bool Matches => Outputs.All(o => o.Matches);
}

/// <summary>
/// ONNX Runtime (CPU) as the oracle: runs a model on given inputs and compares its graph outputs with a network run.
/// Graph optimizations are off: ORT may fuse DequantizeLinear -> Add -> QuantizeLinear into its contrib QLinearAdd, and
/// the oracle is ONNX's semantics node by node (on the quantized CNN, turning them on changed no output for seeds 1-5).
/// </summary>
public static class OnnxRuntimeOracle
{
    public static readonly DiagnosticDescriptor CannotLoad = new("COV7020", "ONNX Runtime cannot run on this machine");
    public static readonly DiagnosticDescriptor Refused = new("COV7021", "ONNX Runtime refused the model");

    /// <summary>
    /// Float outputs may differ from ONNX Runtime's by this share of the output's largest |value|: float layers round their
    /// operands to f16 (2^-11 relative each) and accumulate in f32, and the error grows through the layers; the per-layer
    /// bound (2^-9 |alpha| sum|x w|) is checked layer by layer in the tests.
    /// </summary>
    public const double DefaultFloatTolerance = 1e-2;

    /// <summary>Runs <paramref name="model"/> in ONNX Runtime on <paramref name="inputs"/>; each requested output as doubles (exact for every integer type up to 32 bits).</summary>
    public static Result<ImmutableDictionary<string, double[]>> Run(string path, byte[] model, IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        return Guard(path, () => RunSession(model, inputs, outputs));
    }

    /// <summary>
    /// Runs the model in ONNX Runtime on the run's own inputs and compares every graph output: integers exactly, floats
    /// within <paramref name="floatTolerance"/> of the output's largest |value|.
    /// </summary>
    public static Result<NetworkCheck> Check(ImportedModel imported, byte[] model, IReadOnlyDictionary<string, HostTensor> inputs, NetworkRun run, double floatTolerance = DefaultFloatTolerance)
    {
        ArgumentNullException.ThrowIfNull(imported);
        ArgumentNullException.ThrowIfNull(run);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outputs = imported.GraphOutputs.OrderBy(o => o, StringComparer.Ordinal).ToList();
        var expected = Run(imported.Path, model, inputs, outputs);
        if (!expected.Succeeded)
        {
            return Result<NetworkCheck>.Failure(expected.Diagnostics);
        }

        var version = Version(imported.Path);
        var checks = outputs.Select(o => Compare(o, run.Outputs[o], expected.Value[o], floatTolerance));
        return Result<NetworkCheck>.Success(new NetworkCheck(version.Value ?? "?", floatTolerance, [.. checks], clock.Elapsed.TotalSeconds));
    }

    /// <summary>
    /// Runs <paramref name="action"/>, turning ONNX Runtime's failures into one message each: a native library that does not
    /// load (COV7020) and a model it refuses (COV7021).
    /// </summary>
    public static Result<T> Guard<T>(string path, Func<T> action)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return Result<T>.Success(action());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            return Result<T>.Failure(CannotLoad.Create(SourceLocation.OfFile(path),
                $"the ONNX Runtime native library (libonnxruntime, from the Microsoft.ML.OnnxRuntime package) does not load here: " +
                $"{FirstSentence(Innermost(e).Message)}; run without --check, or on a machine ONNX Runtime supports (linux-x64, linux-arm64, win-x64, osx-arm64)"));
        }
        catch (Exception e) when (e is OnnxRuntimeException or NotSupportedException)
        {
            return Result<T>.Failure(Refused.Create(SourceLocation.OfFile(path), $"ONNX Runtime refused the model: {e.Message}"));
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    // The loader's message goes on for a line per path it tried; its first sentence says what failed, in one line.
    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0];
        var end = line.IndexOf(". ", StringComparison.Ordinal);
        return (end < 0 ? line : line[..end]).TrimEnd('.', ' ');
    }

    /// <summary>ONNX Runtime's version, or COV7020 when its native library does not load: checked before a long run.</summary>
    public static Result<string> Version(string path) => Guard(path, () => OrtEnv.Instance().GetVersionString());

    private static OutputCheck Compare(string name, HostTensor actual, double[] expected, double floatTolerance)
    {
        var values = actual.IsFloat ? actual.Floats.Select(v => (double)v).ToArray() : actual.Integers.Select(v => (double)v).ToArray();
        var type = actual.Type.ToString();
        if (values.Length != expected.Length)
        {
            return new OutputCheck(name, type, !actual.IsFloat, expected.Length, Math.Max(values.Length, expected.Length), double.MaxValue, null,
                $"covenant gives {values.Length} values, ONNX Runtime {expected.Length}");
        }

        double? bound = actual.IsFloat ? (floatTolerance * expected.Select(Math.Abs).DefaultIfEmpty(0).Max()) + 1e-6 : null;
        var mismatches = 0;
        var worst = 0.0;
        var first = "";
        for (var i = 0; i < values.Length; i++)
        {
            var error = Math.Abs(values[i] - expected[i]);
            worst = Math.Max(worst, double.IsNaN(error) ? double.MaxValue : error);
            if (bound is { } b ? !(error <= b) : values[i] != expected[i])
            {
                if (mismatches++ == 0)
                {
                    first = string.Create(CultureInfo.InvariantCulture, $"[{i}] covenant {values[i]:G9} ort {expected[i]:G9}");
                }
            }
        }

        return new OutputCheck(name, type, !actual.IsFloat, values.Length, mismatches, worst, bound, first);
    }

    private static ImmutableDictionary<string, double[]> RunSession(byte[] model, IReadOnlyDictionary<string, HostTensor> inputs, IReadOnlyList<string> outputs)
    {
        using var options = new SessionOptions
        {
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        using var session = new InferenceSession(model, options);
        var names = inputs.Keys.ToList();
        var values = names.Select(name => ToOrt(inputs[name])).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, [.. outputs]);
            return outputs.Select((name, i) => (name, Values(results[i]))).ToImmutableDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    private static double[] Values(OrtValue result) => result.GetTensorTypeAndShape().ElementDataType switch
    {
        TensorElementType.Float => [.. result.GetTensorDataAsSpan<float>().ToArray().Select(v => (double)v)],
        TensorElementType.Int8 => [.. result.GetTensorDataAsSpan<sbyte>().ToArray().Select(v => (double)v)],
        TensorElementType.UInt8 => [.. result.GetTensorDataAsSpan<byte>().ToArray().Select(v => (double)v)],
        TensorElementType.Int16 => [.. result.GetTensorDataAsSpan<short>().ToArray().Select(v => (double)v)],
        TensorElementType.UInt16 => [.. result.GetTensorDataAsSpan<ushort>().ToArray().Select(v => (double)v)],
        TensorElementType.Int32 => [.. result.GetTensorDataAsSpan<int>().ToArray().Select(v => (double)v)],
        TensorElementType.Int64 => [.. result.GetTensorDataAsSpan<long>().ToArray().Select(v => (double)v)],
        var other => throw new NotSupportedException($"the oracle does not compare {other} outputs"),
    };

    private static OrtValue ToOrt(HostTensor tensor)
    {
        var shape = tensor.Type.Shape.ToArray();
        return tensor.Type.ElementType switch
        {
            DataType.Float => OrtValue.CreateTensorValueFromMemory(tensor.Floats.ToArray(), shape),
            DataType.Int8 => OrtValue.CreateTensorValueFromMemory(tensor.Integers.Select(v => (sbyte)v).ToArray(), shape),
            DataType.Uint8 => OrtValue.CreateTensorValueFromMemory(tensor.Integers.Select(v => (byte)v).ToArray(), shape),
            DataType.Int16 => OrtValue.CreateTensorValueFromMemory(tensor.Integers.Select(v => (short)v).ToArray(), shape),
            DataType.Uint16 => OrtValue.CreateTensorValueFromMemory(tensor.Integers.Select(v => (ushort)v).ToArray(), shape),
            DataType.Int32 => OrtValue.CreateTensorValueFromMemory(tensor.Integers.ToArray(), shape),
            var other => throw new NotSupportedException($"the oracle cannot pass a {other} graph input"),
        };
    }
}
