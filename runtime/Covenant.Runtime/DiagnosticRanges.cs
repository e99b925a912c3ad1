using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
// The artifact format is shared with the targets, which declare the same block (ArtifactManifest may live in either).
[assembly: DiagnosticRange(5, 9, "artifact files")]
[assembly: DiagnosticRange(6000, 6099, "artifact execution")]
[assembly: DiagnosticRange(6100, 6199, "VTA simulator")]
[assembly: DiagnosticRange(6200, 6299, "VNNI kernels")]
[assembly: DiagnosticRange(6300, 6399, "TensorCore simulator")]
