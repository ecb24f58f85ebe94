using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>The batched decode's parameter structs against their C layouts (fused_matvec.cu, attention.cu), worked out by hand.</summary>
public class BatchKernelParamsTests
{
    [Fact]
    public void FmBatchParamsIsFmParamsThenTwoInts() =>
        // struct FmBatchParams { FmParams p; int ld_out; int nb; }: FmParams is 8-byte aligned, so no padding.
        Assert.Equal(Unsafe.SizeOf<FmParams>() + 8, Unsafe.SizeOf<FmBatchParams>());

    [Fact]
    public void FixedDecodeParamsStartWithTheirMatrix()
    {
        // struct FmFixed { 3 pointers (24); int rows, cols; u32 base (12) } = 36, padded to 40 (8-byte aligned);
        // FmDecodeParams { FmFixed m; u16* out; int rg0, rg1; } = 40 + 8 + 8; FmEmbedParams { FmFixed m; tokens, out; int count } = 40 + 16 + 4, padded to 64.
        Assert.Equal(40, Unsafe.SizeOf<FmFixed>());
        Assert.Equal(40, (int)Marshal.OffsetOf<FmDecodeParams>(nameof(FmDecodeParams.Out)));
        Assert.Equal(56, Unsafe.SizeOf<FmDecodeParams>());
        Assert.Equal(40, (int)Marshal.OffsetOf<FmEmbedParams>(nameof(FmEmbedParams.Tokens)));
        Assert.Equal(64, Unsafe.SizeOf<FmEmbedParams>());
    }

    [Fact]
    public void AttnParamsSeqBytesFollowsFuseRope()
    {
        // 5 pointers (40) + T, n_heads, n_kv_heads, head_dim, scale (20) + 4 padding + 3 pointers (24) + style, fuse_rope (8) = 96;
        // then seq_bytes (8), stage_rows and halves (8) = 112, split_ws and split_count (16), split_len and split_max (8) = 136,
        // window (4) + 4 padding: 144, a multiple of the struct's 8-byte alignment (attention.cuh's AttnParams in the C
        // layout NVRTC gives it).
        Assert.Equal(96, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.SeqBytes)));
        Assert.Equal(104, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.StageRows)));
        Assert.Equal(108, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.Halves)));
        Assert.Equal(112, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.SplitWs)));
        Assert.Equal(128, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.SplitLen)));
        Assert.Equal(136, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.Window)));
        Assert.Equal(144, Unsafe.SizeOf<AttnParams>());
    }
}
