using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
// VTA's 5000-5099 and VNNI's 5200-5209 (the architecture read as the target's configuration) are the runtime's, which
// owns the program models; the lowering's own ids follow them.
[assembly: DiagnosticRange(5100, 5199, "VTA lowering")]
[assembly: DiagnosticRange(5210, 5299, "VNNI target")]
[assembly: DiagnosticRange(5300, 5399, "TensorCore target")]
[assembly: DiagnosticRange(9500, 9599, "VTA lowering internal errors")]
