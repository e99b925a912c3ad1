using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
[assembly: DiagnosticRange(5, 9, "artifact files")]
[assembly: DiagnosticRange(5000, 5099, "VTA configuration from the architecture")]
[assembly: DiagnosticRange(5200, 5209, "VNNI ISA from the architecture")]
[assembly: DiagnosticRange(6000, 6099, "artifact execution")]
[assembly: DiagnosticRange(6100, 6199, "VTA simulator")]
[assembly: DiagnosticRange(6200, 6299, "VNNI kernels")]
[assembly: DiagnosticRange(6300, 6399, "TensorCore simulator")]
