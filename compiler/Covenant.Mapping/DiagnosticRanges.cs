using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
[assembly: DiagnosticRange(4000, 4999, "mapping (why no mapping exists)")]
