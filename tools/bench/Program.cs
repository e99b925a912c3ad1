// covenant-bench: times Covenant's VNNI kernels against oneDNN, layer by layer, in one process (see README.md).
return Covenant.Bench.BenchProgram.Execute(args);
