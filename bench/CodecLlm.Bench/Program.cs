using BenchmarkDotNet.Running;
using CodecLlm.Bench;

if (args.Length > 0 && args[0] == "codecs") return CodecReport.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(CodecReport).Assembly).Run(args);
return 0;
