using Covenant.Core.Diagnostics;

// This project's diagnostic ids; the README's table lists every project's (see DiagnosticRangeAttribute).
[assembly: DiagnosticRange(1, 4, "files and output")]
[assembly: DiagnosticRange(9000, 9099, "internal errors")]
