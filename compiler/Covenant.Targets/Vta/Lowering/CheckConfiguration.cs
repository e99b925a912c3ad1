using Covenant.Core.Diagnostics;
using Covenant.Runtime.Vta;

namespace Covenant.Targets.Vta.Lowering;

/// <summary>
/// Step: the configuration is one the lowering handles: BATCH = 1 (every layout below packs one row per GEMM row)
/// and a configuration that validates. Errors point at the GEMM capability of the YAML.
/// </summary>
internal static class CheckConfiguration
{
    public static Result<VtaConfig> Run(LoweringContext context)
    {
        var cfg = context.Config;
        var at = context.Gemm.Capability.Location;
        if (cfg.Batch != 1)
        {
            return LoweringContext.Fail<VtaConfig>(VtaLoweringDiagnostics.UnsupportedConfig, at,
                $"the VTA lowering supports BATCH = 1; '{cfg.Name}' has BATCH = {cfg.Batch}");
        }

        var errors = cfg.Validate().Where(d => d.IsError).ToList();
        return errors.Count > 0
            ? LoweringContext.Fail<VtaConfig>(VtaLoweringDiagnostics.UnsupportedConfig, at, string.Join("; ", errors.Select(e => e.Message)))
            : Result<VtaConfig>.Success(cfg);
    }
}
