namespace Covenant.Runtime.Execution;

/// <summary>
/// An executor whose host lays the tensors out in a memory image with padding (VTA's DRAM image), so
/// <see cref="RunOptions.DramGarbage"/> means something to it; other executors refuse that option.
/// </summary>
public interface IDramImageExecutor : IArtifactExecutor
{
}
