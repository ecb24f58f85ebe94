using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// A diagnostic: with the kernels built with <c>-DTIMELINE=1</c> (<c>CODECLLM_NVRTC_DEFINES</c>) and
/// <c>CODECLLM_TIMELINE=FILE</c> set, the bench writes each variant's kernel timeline to <c>FILE.VARIANT.csv</c> — every
/// instrumented block's start, the moment it passed <c>griddepcontrol.wait</c> and its end (<c>%globaltimer</c>, ns),
/// the latest <c>TL_CAP</c> blocks of each module (Kernels/common.cuh) — the overlapped schedule of a decode step that
/// Nsight Systems would show, which the device machine lacks. <c>dev/perf/timeline_summary.py</c> reads it.
/// </summary>
internal static unsafe class KernelTimeline
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Record
    {
        public ulong T0;
        public uint DWait, DEnd, Kid, Block, Smid, Grid;
    }

    /// <summary>The file prefix, or null when off.</summary>
    public static string? Prefix => Environment.GetEnvironmentVariable("CODECLLM_TIMELINE") is { Length: > 0 } f ? f : null;

    /// <summary>Writes the records of every loaded module that has them to <c>Prefix.VARIANT.csv</c>, then empties the rings.</summary>
    public static void Dump(CudaContext ctx, string variant)
    {
        if (Prefix is not { } prefix) return;
        ctx.Synchronize();
        var sb = new StringBuilder("module,kid,block,grid,smid,t0,dwait,dend\n");
        foreach (CudaModule m in ctx.Kernels.LoadedModules)
        {
            if (m.Global("tl_buf") is not { } buf || m.Global("tl_n") is not { } count) continue;
            uint n;
            CuDriver.Check(CuDriver.cuMemcpyDtoH(&n, count.Pointer, 4), "cuMemcpyDtoH(tl_n)");
            // The ring's filled records: all of it once it has wrapped (the order does not matter: readers sort by start).
            var records = new Record[(int)Math.Min(n, buf.Bytes / (ulong)sizeof(Record))];
            if (records.Length > 0)
                fixed (Record* r = records)
                    CuDriver.Check(CuDriver.cuMemcpyDtoH(r, buf.Pointer, (nuint)(records.Length * sizeof(Record))), "cuMemcpyDtoH(tl_buf)");
            foreach (Record r in records)
                sb.Append(CultureInfo.InvariantCulture, $"{m.Name},{r.Kid},{r.Block},{r.Grid},{r.Smid},{r.T0},{r.DWait},{r.DEnd}\n");
            uint zero = 0;
            CuDriver.Check(CuDriver.cuMemcpyHtoD(count.Pointer, &zero, 4), "cuMemcpyHtoD(tl_n)");
        }
        string slug = new(variant.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
        string path = $"{prefix}.{slug}.csv", tmp = path + ".tmp";
        File.WriteAllText(tmp, sb.ToString());
        File.Move(tmp, path, overwrite: true);
    }
}
