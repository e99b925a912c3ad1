using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
// The artifact format is shared with the runtime, which declares the same block (ArtifactManifest may live in either).
[assembly: DiagnosticRange(5, 9, "artifact files")]
[assembly: DiagnosticRange(5000, 5199, "VTA target")]
[assembly: DiagnosticRange(5200, 5299, "VNNI target")]
[assembly: DiagnosticRange(5300, 5399, "TensorCore target")]
[assembly: DiagnosticRange(9500, 9599, "VTA lowering internal errors")]
