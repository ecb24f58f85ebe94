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
    public void AttnParamsSeqBytesFollowsFuseRope()
    {
        // 5 pointers (40) + T, n_heads, n_kv_heads, head_dim, scale (20) + 4 padding + 3 pointers (24) + style, fuse_rope (8) = 96;
        // then seq_bytes (8) and stage_rows (4), padded to the struct's 8-byte alignment: 112.
        Assert.Equal(96, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.SeqBytes)));
        Assert.Equal(104, (int)Marshal.OffsetOf<AttnParams>(nameof(AttnParams.StageRows)));
        Assert.Equal(112, Unsafe.SizeOf<AttnParams>());
    }
}
