using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
[assembly: DiagnosticRange(2000, 2999, "codelet syntax")]
[assembly: DiagnosticRange(3000, 3999, "codelet checking and instantiation")]
