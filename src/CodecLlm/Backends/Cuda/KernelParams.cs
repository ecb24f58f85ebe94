using System.Runtime.InteropServices;

namespace CodecLlm.Backends.Cuda;

// The by-value parameter structs of the kernels in Kernels/*.cu, field for field (natural C layout).
#pragma warning disable CS0649 // fields are written by object initialisers and read by the GPU

[StructLayout(LayoutKind.Sequential)]
internal struct EmbedParams
{
    public ulong Table, Tokens, Out;
    public int Dim, Count;
}

[StructLayout(LayoutKind.Sequential)]
internal struct RmsNormParams
{
    public ulong X, W, Out;
    public int Dim;
    public float Eps;
}

[StructLayout(LayoutKind.Sequential)]
internal struct AddParams
{
    public ulong Y, X;
    public long N;
    public int Halves;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SwigluParams
{
    public ulong Gate, Up, Out;
    public long N;
    public int Halves;
}

[StructLayout(LayoutKind.Sequential)]
internal struct BiasParams
{
    public ulong X, Bias;
    public int Dim;
    public long N;
    public int Halves;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ConvertParams
{
    public ulong In, Out;
    public long N;
}

/// <summary>attention.cu AttnParams: the attention kernels' and (prefill) rope_kv's parameters.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttnParams
{
    public ulong Q, KCache, VCache, Out, Pos0;
    public int T, NHeads, NKvHeads, HeadDim;
    public float Scale;
    public ulong KNew, VNew, InvFreq;
    public int Style, FuseRope;

    /// <summary>Batched decode: bytes between consecutive sequences' caches (0: one sequence).</summary>
    public long SeqBytes;

    /// <summary>Decode: positions whose key and value rows the kernel stages in shared memory before its wait (0: none).</summary>
    public int StageRows;

    /// <summary>Prefill RoPE (rope_kv): bit 0/1/2 when Q/KNew/VNew are still a prefill GEMM's [hi | lo] output (summed as read).</summary>
    public int Halves;

    /// <summary>
    /// Decode (attention_decode) split over positions: SplitLen positions a block (grid z; 0: one block a head), SplitMax
    /// blocks a head at most; SplitWs: [batch][heads][SplitMax][head dim + 2] floats of partial outputs, maxima and sums;
    /// SplitCount: [batch][heads] ints, zero between launches.
    /// </summary>
    public ulong SplitWs, SplitCount;

    public int SplitLen, SplitMax;

    /// <summary>Sliding-window attention: a query at position q attends to positions max(0, q - Window + 1) .. q (0: all).</summary>
    public int Window;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ArgmaxParams
{
    public ulong Logits, Out;
    public int N;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SampleParams
{
    public ulong Logits, Probs, Out;
    public int N;
    public float Temperature, TopP;
    public int TopK;
    public float Coin;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SynthParams
{
    public ulong Out;
    public long N;
    public ulong Seed;
    public float Mean, Std;
    public int DType;
}

/// <summary>One matrix of a matvec launch (see matvec.cuh MvSeg).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MvSeg
{
    public ulong W, Aux0, Aux1, Aux2, Bias, Out;
    public int Rows, GroupStart;
}

[StructLayout(LayoutKind.Sequential)]
internal struct MatvecParams
{
    public MvSeg Seg0, Seg1, Seg2;
    public ulong X, X2, NormW, Resid;
    public int NSeg, Cols, TotalGroups;
    public float Eps;
    public int Act;
}
/// <summary>One matrix of a fused matvec launch (see fused_matvec.cu FmSeg).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmSeg
{
    public ulong W, TileOffsets, Escapes, Bias, Out;
    public int Rows;
    public uint Base;
    public int GroupStart, Pad;
}

/// <summary>fused_matvec.cu FmParams.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmParams
{
    public FmSeg Seg0, Seg1, Seg2;
    public ulong X, X2, NormW, Resid;
    public int NSeg, Cols;
    public float Eps;
    public int Groups;
}

/// <summary>fused_matvec.cu FmBatchParams (the batched entry points, module compiled with FM_BATCH_ENTRIES).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmBatchParams
{
    public FmParams P;
    public int LdOut, Nb;
}

/// <summary>fixed_tile.cuh FmFixed: a `fixed` matrix's sections in device memory, its shape and base exponent.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmFixed
{
    public ulong Tiles, TileOffsets, Escapes;
    public int Rows, Cols;
    public uint Base;

    /// <summary>The sections of a `fixed` matvec operand (W = tiles, Aux0 = tile offsets, Aux1 = escapes, Aux2 = base).</summary>
    public static FmFixed Of(MatvecWeight w) =>
        new() { Tiles = w.W, TileOffsets = w.Aux0, Escapes = w.Aux1, Base = (uint)w.Aux2, Rows = w.Rows, Cols = w.Cols };
}

/// <summary>fixed_decode.cu FmDecodeParams.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmDecodeParams
{
    public FmFixed M;
    public ulong Out;
    public int Rg0, Rg1;
}

/// <summary>fixed_decode.cu FmEmbedParams.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FmEmbedParams
{
    public FmFixed M;
    public ulong Tokens, Out;
    public int Count;
}
#pragma warning restore CS0649
