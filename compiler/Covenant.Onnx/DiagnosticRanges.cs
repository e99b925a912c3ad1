using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
[assembly: DiagnosticRange(7000, 7099, "ONNX import")]
