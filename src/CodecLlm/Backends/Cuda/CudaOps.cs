using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>How a matrix's elements are stored on the device.</summary>
internal enum WeightEncoding
{
    F32,
    F16,
    BF16,

    /// <summary>The `fixed` codec's tiles (BF16), decoded in the matvec's registers.</summary>
    Fixed,
}

/// <summary>
/// A matrix operand of a matvec: where its (possibly encoded) elements are and its shape. Fixed: W = the
/// tiles, Aux0 = the tile offsets, Aux1 = the escape bytes, Aux2 = the base exponent. A row slice of a larger
/// matrix sets <see cref="FullRows"/> to the whole matrix's rows: the fused matvec's summation order (its warp
/// count) follows the whole matrix, so a slice computes exactly what the whole matrix would.
/// </summary>
internal readonly record struct MatvecWeight(WeightEncoding Encoding, ulong W, int Rows, int Cols, ulong Aux0 = 0, ulong Aux1 = 0, ulong Aux2 = 0, int FullRows = 0)
{
    public static WeightEncoding EncodingOf(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => WeightEncoding.F32,
        TensorDType.F16 => WeightEncoding.F16,
        TensorDType.BF16 => WeightEncoding.BF16,
        _ => throw new UnsupportedModelException($"weights of type {dtype} are not supported on the GPU"),
    };

    /// <summary>The same matrix restricted to rows [first, first + count) (raw encodings only).</summary>
    public MatvecWeight SliceRows(int first, int count) => Encoding == WeightEncoding.Fixed
        ? throw new InvalidOperationException("row slices of fixed tiles go through the decoder")
        : this with { W = W + (ulong)((long)first * Cols * ElementBytes), Rows = count, FullRows = Math.Max(FullRows, Rows) };

    public int ElementBytes => Encoding == WeightEncoding.F32 ? 4 : 2;
}

/// <summary>One segment of a matvec launch: a matrix, its optional bias, its output.</summary>
internal readonly record struct MatvecTarget(MatvecWeight Weight, ulong Out, ulong Bias = 0);

/// <summary>Typed launches of the kernels in Kernels/*.cu. Element-type codes: 0 F32, 1 F16, 2 BF16.</summary>
internal sealed class CudaOps
{
    private const uint Threads = 256;
    private readonly CudaContext _context;
    private readonly KernelLibrary _k;
    private readonly uint _gridCap;
    private readonly uint _matvecGridCap;

    /// <summary>Programmatic dependent launches for matvecs (CODECLLM_PDL=0 turns them off).</summary>
    public static bool UseProgrammaticLaunch { get; } = Environment.GetEnvironmentVariable("CODECLLM_PDL") != "0";

    /// <summary>
    /// Programmatic dependent launches also for the decode step's attention, head and argmax (CODECLLM_STEP_PDL=0
    /// turns these off, for before/after timings on one card).
    /// </summary>
    public static bool UseStepProgrammaticLaunch { get; } = UseProgrammaticLaunch && Environment.GetEnvironmentVariable("CODECLLM_STEP_PDL") != "0";

    public CudaOps(CudaContext context)
    {
        _context = context;
        _k = context.Kernels;
        _gridCap = (uint)context.MultiprocessorCount * 8;
        // Few enough blocks that each loops over several row groups: every block stages the whole input
        // vector, so more blocks means more L2 traffic (CODECLLM_MV_BLOCKS_PER_SM overrides, for tuning).
        // Measured on an H100 (docs/PERFORMANCE.md): 4 per SM.
        _matvecGridCap = (uint)(context.MultiprocessorCount * (TuningEnvironment.AtLeast("CODECLLM_MV_BLOCKS_PER_SM", 1) ?? 4));
    }

    public static int DTypeCode(TensorDType t) => t switch
    {
        TensorDType.F32 => 0,
        TensorDType.F16 => 1,
        TensorDType.BF16 => 2,
        _ => throw new UnsupportedModelException($"type {t} is not supported on the GPU"),
    };

    private static string Suffix(int code) => code switch { 0 => "f32", 1 => "f16", _ => "bf16" };

    private uint Grid(long n) => (uint)Math.Clamp((n + Threads - 1) / Threads, 1, _gridCap);

    /// <summary>Compiles every kernel module now (first-use cost out of timed regions).</summary>
    public void Warm()
    {
        foreach (string f in new[] { "elementwise.cu", "attention.cu", PrefillAttentionModule, "matvec.cu", "fused_matvec.cu", GpuDecoders.FixedModule, "sampling.cu" }) _k.Module(f);
    }

    /// <summary>The preprocessor symbol of the fused matvec's batched module (its entry points fm_*_b{2,4,8}).</summary>
    private const string BatchSymbol = "FM_BATCH_ENTRIES";

    /// <summary>Most sequences a batched decode step (<see cref="Matvec"/> with batch &gt; 1) takes.</summary>
    public const int MaxBatch = Engine.BatchArguments.MaxBatch;

    /// <summary>Compiles the batched matvec module now (sessions of more than one sequence).</summary>
    public void WarmBatch() => _k.Module("fused_matvec.cu", BatchSymbol);

    /// <summary>The batch rows a batched fused matvec kernel computes for <paramref name="batch"/> sequences (2, 4 or 8).</summary>
    public static int BatchKernelRows(int batch) => batch <= 2 ? 2 : batch <= 4 ? 4 : 8;

    public void Embed(CudaStream s, int tableType, ulong table, ulong tokens, ulong output, int dim, int count) =>
        _k.Function("elementwise.cu", "embed_" + Suffix(tableType)).Launch(s, ((uint)Math.Min((dim + Threads - 1) / Threads, 64), (uint)count, 1u), Threads, 0,
            new EmbedParams { Table = table, Tokens = tokens, Out = output, Dim = dim, Count = count });

    /// <summary>Embedding rows of <paramref name="count"/> tokens gathered from a `fixed` matrix (decoded on the fly) as F32.</summary>
    public void EmbedFixed(CudaStream s, MatvecWeight table, ulong tokens, ulong output, int count) =>
        _k.Function(GpuDecoders.FixedModule, "fixed_embed").Launch(s, ((uint)((table.Cols + 127) / 128), (uint)count, 1u), 32, 0,
            new FmEmbedParams { M = FmFixed.Of(table), Tokens = tokens, Out = output, Count = count });

    public void RmsNorm(CudaStream s, ulong x, ulong w, ulong output, int outType, int dim, int rows, float eps) =>
        _k.Function("elementwise.cu", "rmsnorm_" + Suffix(outType)).Launch(s, (uint)rows, Threads, 0,
            new RmsNormParams { X = x, W = w, Out = output, Dim = dim, Eps = eps });

    /// <summary>
    /// y[i] += x[i] for i &lt; n; with <paramref name="halves"/>, x is a prefill GEMM's [2n] output over [hi | lo] and
    /// y[i] += x[i] + x[n + i] (the W·hi and W·lo halves summed, then added).
    /// </summary>
    public void AddInPlace(CudaStream s, ulong y, ulong x, long n, bool halves = false) =>
        _k.Function("elementwise.cu", "add_inplace").Launch(s, Grid(n), Threads, 0, new AddParams { Y = y, X = x, N = n, Halves = halves ? 1 : 0 });

    /// <summary>RMSNorm of <paramref name="rows"/> rows into the f16/bf16 (<paramref name="toType"/> 1/2) hi and lo halves a prefill GEMM reads: output[0..n) hi, output[n..2n) lo, n = rows * dim.</summary>
    public void RmsNormSplit(CudaStream s, ulong x, ulong w, ulong output, int toType, int dim, int rows, float eps) =>
        _k.Function("elementwise.cu", "rmsnorm_split_" + Suffix(toType)).Launch(s, (uint)rows, Threads, 0,
            new RmsNormParams { X = x, W = w, Out = output, Dim = dim, Eps = eps });

    /// <summary>
    /// silu(gate) · up into the f16/bf16 (<paramref name="toType"/> 1/2) hi and lo halves a prefill GEMM reads (as
    /// <see cref="Split"/>); with <paramref name="halves"/>, gate and up are prefill GEMM outputs over [hi | lo] ([2n]
    /// each) and their values gate[i] + gate[n + i], up[i] + up[n + i].
    /// </summary>
    public void SwigluSplit(CudaStream s, ulong gate, ulong up, ulong output, int toType, long n, bool halves = false) =>
        _k.Function("elementwise.cu", "swiglu_split_" + Suffix(toType)).Launch(s, Grid(n), Threads, 0,
            new SwigluParams { Gate = gate, Up = up, Out = output, N = n, Halves = halves ? 1 : 0 });

    /// <summary>silu(gate) · up in f32 (<paramref name="halves"/>: as <see cref="SwigluSplit"/>).</summary>
    public void Swiglu(CudaStream s, ulong gate, ulong up, ulong output, long n, bool halves = false) =>
        _k.Function("elementwise.cu", "swiglu").Launch(s, Grid(n), Threads, 0, new SwigluParams { Gate = gate, Up = up, Out = output, N = n, Halves = halves ? 1 : 0 });

    /// <summary>
    /// x[i] += bias[i % dim] for i &lt; n; with <paramref name="halves"/>, x is a prefill GEMM's [2n] output over [hi | lo] and
    /// x[i] = (x[i] + x[n + i]) + bias[i % dim].
    /// </summary>
    public void AddBiasRows(CudaStream s, ulong x, ulong bias, int dim, long n, bool halves = false) =>
        _k.Function("elementwise.cu", "add_bias_rows").Launch(s, Grid(n), Threads, 0, new BiasParams { X = x, Bias = bias, Dim = dim, N = n, Halves = halves ? 1 : 0 });

    /// <summary>Element-type conversion f32 to f16/bf16 (toType 1/2) or f16/bf16 to f32 (fromType 1/2, toType 0).</summary>
    public void Convert(CudaStream s, ulong input, int fromType, ulong output, int toType, long n)
    {
        string name = (fromType, toType) switch
        {
            (0, 1) => "f32_to_f16_kernel",
            (0, 2) => "f32_to_bf16_kernel",
            (1, 0) => "f16_to_f32_kernel",
            (2, 0) => "bf16_to_f32_kernel",
            _ => throw new ArgumentException($"no conversion {fromType} -> {toType}"),
        };
        _k.Function("elementwise.cu", name).Launch(s, Grid(n), Threads, 0, new ConvertParams { In = input, Out = output, N = n });
    }

    /// <summary>f32 to hi + lo pairs of f16/bf16 (toType 1/2): output[0..n) hi, output[n..2n) lo.</summary>
    public void Split(CudaStream s, ulong input, ulong output, int toType, long n) =>
        _k.Function("elementwise.cu", toType == 1 ? "split_f16" : "split_bf16").Launch(s, Grid(n), Threads, 0, new ConvertParams { In = input, Out = output, N = n });

    /// <summary>Prefill RoPE of q and KNew in place, and the append of KNew, VNew to the cache (before <see cref="Attention"/>).</summary>
    public void RopeKv(CudaStream s, int kvType, in AttnParams p) =>
        _k.Function("attention.cu", "rope_kv_" + Suffix(kvType)).Launch(s, ((uint)p.T, (uint)(p.NHeads + p.NKvHeads), 1u), 64, 0, p);

    /// <summary>
    /// Causal attention for T queries; <paramref name="maxPositions"/> sizes the score buffer. <paramref name="programmatic"/>:
    /// a PDL launch (the kernel waits for the previous kernel before reading anything).
    /// </summary>
    public void Attention(CudaStream s, int kvType, in AttnParams p, int maxPositions, bool programmatic = false)
    {
        if (PrefillAttentionKernel(kvType, p) is { } prefill)
        {
            _k.Function(PrefillAttentionModule, prefill, carveout: 100).Launch(s, ((uint)((p.T + PrefillQueries - 1) / PrefillQueries), (uint)p.NHeads, 1u),
                PrefillAttentionThreads, (uint)PrefillAttentionBytes(p.HeadDim), p);
            return;
        }
        bool decode = UsesDecodeAttention(p);
        int floats = decode
            ? DecodeAttentionFloats(p.HeadDim, p.SplitLen > 0 ? Math.Min(p.SplitLen, maxPositions) : maxPositions)  // a split block scores its positions only
            : AttentionFloats(p.HeadDim, maxPositions);
        uint shared = (uint)(AttentionStageBytes(kvType, p.HeadDim, p.StageRows) + floats * sizeof(float));
        CudaFunction f = _k.Function("attention.cu", decode ? $"attention_decode_{Suffix(kvType)}_h{p.HeadDim}" : "attention_" + Suffix(kvType));
        uint splits = decode && p.SplitLen > 0 ? (uint)p.SplitMax : 1u;
        f.Launch(s, ((uint)p.NHeads, (uint)p.T, splits), decode ? DecodeAttentionThreads : AttentionThreads, shared, p, programmatic && UseStepProgrammaticLaunch);
    }

    /// <summary>Whether <see cref="Attention"/> runs attention_decode (decode, RoPE fused, head dim 64 or 128) for these parameters.</summary>
    internal static bool UsesDecodeAttention(in AttnParams p) => p.FuseRope != 0 && p.HeadDim is 64 or 128 && !GeneralDecodeAttention;

    /// <summary>
    /// Positions a block of attention_decode takes (AttnParams.SplitLen): a head's positions beyond this are split over
    /// more blocks, whose partial outputs the last one combines, so a long context keeps every SM busy (one block a head
    /// read 2000 positions' keys and values one pass at a time: 1.75 ms of a 2.7 ms TinyLlama step on an H100). 256
    /// measured faster than 128 at 2000 positions (733 against 703 tok/s) and, with fewer blocks that find no positions,
    /// at 160 (1077-1079 against 1058-1062, as unsplit). CODECLLM_ATTN_SPLIT overrides it (0: one block a head, for A/B timing).
    /// </summary>
    internal static readonly int DecodeAttentionSplit = (int)(TuningEnvironment.AtLeast("CODECLLM_ATTN_SPLIT", 0) ?? 256);

    private const string PrefillAttentionModule = "attention_prefill.cu";
    private const int PrefillQueries = 32;  // PF_BQ
    private const uint PrefillAttentionThreads = 128;  // PF_THREADS

    /// <summary>
    /// The tiled prefill kernel (attention_prefill.cu) for a prefill launch (RoPE not fused) whose head dim is a multiple of 4
    /// up to 256; null: the general kernel (also with CODECLLM_PREFILL_ATTN_GENERAL=1, for A/B timing).
    /// </summary>
    internal static string? PrefillAttentionKernel(int kvType, in AttnParams p) =>
        p.FuseRope != 0 || p.HeadDim % 4 != 0 || p.HeadDim > 256 || GeneralPrefillAttention ? null
        : $"attention_prefill_{Suffix(kvType)}_d{(p.HeadDim <= 64 ? 64 : p.HeadDim <= 128 ? 128 : 256)}";

    /// <summary>
    /// Dynamic shared memory of the tiled prefill kernel: the query tile (32 rows) and the key and value tiles (64 rows for head
    /// dims up to 64, else 32) as floats, rows of hd + 4, then 32 rows of probabilities of the key tile's width + 16.
    /// </summary>
    internal static int PrefillAttentionBytes(int headDim)
    {
        int bk = headDim <= 64 ? 64 : 32;
        return ((PrefillQueries + 2 * bk) * (headDim + 4) + PrefillQueries * (bk + 16)) * sizeof(float);
    }

    private static readonly bool GeneralPrefillAttention = Environment.GetEnvironmentVariable("CODECLLM_PREFILL_ATTN_GENERAL") == "1";

    /// <summary>
    /// CODECLLM_ATTN_GENERAL=1: decode steps run the general attention kernel (prefill's) instead of attention_decode, the
    /// one for head dims 64 and 128 (for A/B timing; the two sum in different orders, so their logits differ in the last bits).
    /// </summary>
    private static readonly bool GeneralDecodeAttention = Environment.GetEnvironmentVariable("CODECLLM_ATTN_GENERAL") == "1";

    private const uint DecodeAttentionThreads = 256;

    /// <summary>
    /// Floats of the attention kernels' dynamic shared memory besides the staged rows (q, new k/v, partial outputs, scores):
    /// the general kernel's partial outputs take 4 a thread, attention_decode's a head's width a warp.
    /// </summary>
    internal static int AttentionFloats(int headDim, int maxPositions) =>
        3 * headDim + Math.Max(Math.Max(headDim, 4 * (int)AttentionThreads), (int)DecodeAttentionThreads / 32 * headDim) + maxPositions;

    /// <summary>attention_decode's floats after the staged rows: q, the new key and value, a head's width a warp, the scores.</summary>
    private static int DecodeAttentionFloats(int headDim, int positions) => (3 + (int)DecodeAttentionThreads / 32) * headDim + positions;

    /// <summary>Bytes of one KV-cache element of type code <paramref name="kvType"/> (0 f32, 1 f16, 2 bf16).</summary>
    internal static int KvElementBytes(int kvType) => kvType == 0 ? 4 : 2;

    private static int AttentionStageBytes(int kvType, int headDim, int rows) => 2 * rows * (headDim * KvElementBytes(kvType) + 16);

    /// <summary>
    /// Decode attention: how many positions' key and value rows it copies into shared memory before waiting for the q/k/v
    /// matvec (AttnParams.StageRows): as many as 96 KiB holds, within <paramref name="maxSharedBytes"/> of shared memory
    /// a block (less 2 KiB for its static part) and maxPositions.
    /// </summary>
    internal static int AttentionStageRows(int maxSharedBytes, int kvType, int headDim, int maxPositions)
    {
        int budget = Math.Min(96 * 1024, maxSharedBytes - 2048 - AttentionFloats(headDim, maxPositions) * sizeof(float));
        return Math.Clamp(budget / AttentionStageBytes(kvType, headDim, 1), 0, maxPositions);
    }

    private const uint AttentionThreads = 512;

    /// <summary>Greedy token of n logits; <paramref name="programmatic"/>: a PDL launch right after the kernel writing the logits.</summary>
    public void Argmax(CudaStream s, ulong logits, ulong output, int n, bool programmatic = false) =>
        _k.Function("sampling.cu", "argmax").Launch(s, (1u, 1u, 1u), 1024, 0, new ArgmaxParams { Logits = logits, Out = output, N = n },
            programmatic && UseStepProgrammaticLaunch);

    /// <summary>
    /// Temperature / top-k / top-p sampling of n logits with the given coin (see sampling.cu); writes the token, or
    /// -1 when the sorted tokens it needs exceed the kernel's capacity. <paramref name="probs"/>: n floats of workspace.
    /// </summary>
    public void Sample(CudaStream s, ulong logits, ulong probs, ulong output, int n, Engine.SamplingOptions sampling, float coin) =>
        _k.Function("sampling.cu", "sample").Launch(s, 1, 1024, 0, new SampleParams
        {
            Logits = logits,
            Probs = probs,
            Out = output,
            N = n,
            Temperature = sampling.Temperature,
            TopP = sampling.TopP,
            TopK = sampling.TopK,
            Coin = coin,
        });

    public void Synthesize(CudaStream s, ulong output, long n, ulong seed, float mean, float std, int dtype) =>
        _k.Function("synthetic.cu", "synth_normal").Launch(s, Grid(n), Threads, 0,
            new SynthParams { Out = output, N = n, Seed = seed, Mean = mean, Std = std, DType = dtype });

    /// <summary>
    /// y = W x for up to three matrices sharing the input (e.g. q, k, v). The input is x as is, or
    /// RMSNorm(x) * <paramref name="normW"/> when normW is set, or silu(x) * <paramref name="up"/> when up is set
    /// (SwiGLU fused into the down projection). out = resid + W x when <paramref name="resid"/> is set.
    /// BF16 and `fixed` weights run the fused_matvec.cu template (one accumulation order for both: raw and
    /// fixed outputs are bit-identical); F32/F16 weights run matvec.cu.
    /// <paramref name="batch"/> &gt; 1: x and up are [batch][cols], each output and resid [batch][ldOut] (ldOut 0: the
    /// matrix's rows; resid with one matrix only); every batch row is computed exactly as a batch of one would be.
    /// <paramref name="orderGroups"/> &gt; 0: the 8-row groups of the whole launch these targets are row slices of (the fused
    /// matvec's warp count, hence its summation order, follows it).
    /// <paramref name="glu"/>: targets are gate and up (BF16 or `fixed`, equal rows, RMSNorm input, no resid): the gate's
    /// output receives h = silu(gate) * up (the up output is not written), with gate and up summed exactly as without it.
    /// </summary>
    public void Matvec(CudaStream s, ReadOnlySpan<MatvecTarget> targets, ulong x, int cols, ulong normW = 0, float eps = 0, ulong resid = 0, ulong up = 0,
        bool programmatic = false, int batch = 1, int ldOut = 0, int orderGroups = 0, bool glu = false)
    {
        if (targets.Length is < 1 or > 3) throw new ArgumentException("a matvec takes one to three matrices");
        if (glu && (targets.Length != 2 || targets[0].Weight.Rows != targets[1].Weight.Rows || normW == 0 || resid != 0 || up != 0 || orderGroups != 0
            || targets[0].Weight.Encoding is not (WeightEncoding.BF16 or WeightEncoding.Fixed) || targets[1].Weight.Encoding != targets[0].Weight.Encoding))
            throw new ArgumentException("a SwiGLU epilogue takes gate and up of equal rows and one encoding (BF16 or fixed), an RMSNorm input and no residual");
        if (batch is < 1 or > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} outside 1..{MaxBatch}");
        WeightEncoding enc = targets[0].Weight.Encoding;
        if (enc is WeightEncoding.BF16 or WeightEncoding.Fixed)
        {
            FusedMatvec(s, targets, x, cols, normW, eps, resid, up, programmatic, batch, ldOut, orderGroups, glu);
            return;
        }
        if (batch > 1)
        {
            // matvec.cu has no batch rows: one launch per row (the same launch a batch of one makes).
            var rowTargets = new MatvecTarget[targets.Length];
            for (int b = 0; b < batch; b++)
            {
                for (int i = 0; i < targets.Length; i++)
                {
                    int ld = ldOut != 0 ? ldOut : targets[i].Weight.Rows;
                    rowTargets[i] = targets[i] with { Out = targets[i].Out + (ulong)((long)b * ld * 4) };
                }
                ulong rowResid = resid == 0 ? 0 : resid + (ulong)((long)b * (ldOut != 0 ? ldOut : targets[0].Weight.Rows) * 4);
                Matvec(s, rowTargets, x + (ulong)((long)b * cols * 4), cols, normW, eps, rowResid, up == 0 ? 0 : up + (ulong)((long)b * cols * 4), programmatic);
            }
            return;
        }
        bool vec = true;
        var segs = new MvSeg[3];
        int groups = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            MatvecWeight w = targets[i].Weight;
            if (w.Encoding != enc || w.Cols != cols) throw new ArgumentException("matrices of one matvec must share encoding and columns");
            vec &= cols % 8 == 0 && w.W % 16 == 0;
            segs[i] = new MvSeg { W = w.W, Aux0 = w.Aux0, Aux1 = w.Aux1, Aux2 = w.Aux2, Bias = targets[i].Bias, Out = targets[i].Out, Rows = w.Rows, GroupStart = groups };
            groups += (w.Rows + 3) / 4;
        }
        string name = (enc == WeightEncoding.F32 ? "matvec_f32" : "matvec_f16") + (vec ? "_vec" : "_scalar");
        var p = new MatvecParams
        {
            Seg0 = segs[0],
            Seg1 = segs[1],
            Seg2 = segs[2],
            X = x,
            X2 = up,
            NormW = normW,
            Resid = resid,
            NSeg = targets.Length,
            Cols = cols,
            TotalGroups = groups,
            Eps = eps,
            Act = normW != 0 ? 1 : up != 0 ? 2 : 0,
        };
        const uint warps = 4; // split the columns of each 4-row group (matvec.cuh)
        uint grid = (uint)Math.Clamp(groups, 1, _matvecGridCap);
        uint padded = (uint)((cols + 255) / 256 * 256);
        _k.Function("matvec.cu", name).Launch(s, (grid, 1u, 1u), warps * 32, padded * sizeof(float), p, programmatic && UseProgrammaticLaunch);
    }

    /// <summary>Warps per 8-row group of the fused matvec, for tuning: CODECLLM_FM_WARPS = 4, 8 or 16 (every shape).</summary>
    private static readonly int? WarpsOverride = TuningEnvironment.AtLeast("CODECLLM_FM_WARPS", 4) is long w && w is 4 or 8 or 16 ? (int)w : null;

    /// <summary>
    /// Row groups from which a matvec runs 4 warps per group (tuning: CODECLLM_FM_W4_GROUPS). 1025: Llama-2-7B's o and down
    /// (512 groups) run 8, which made `fixed` 193 -> 200 tok/s and left raw at 186 (H100, docs/PERFORMANCE.md).
    /// </summary>
    private static readonly int FourWarpGroups = (int)(TuningEnvironment.AtLeast("CODECLLM_FM_W4_GROUPS", 1) ?? 1025);

    /// <summary>Row groups from which a matvec runs 8 warps per group, else 16 (tuning: CODECLLM_FM_W8_GROUPS, default 200).</summary>
    private static readonly int EightWarpGroups = (int)(TuningEnvironment.AtLeast("CODECLLM_FM_W8_GROUPS", 1) ?? 200);

    /// <summary>
    /// Warps per block (they split the columns, so they fix the summation order): a function of the shape only,
    /// never of the encoding, or raw and fixed results would differ. Few row groups need more warps each to fill
    /// the GPU: 4 for >= 1025 groups, 8 for >= 200 (2048- and 4096-row matrices), else 16 (H100, docs/PERFORMANCE.md). A
    /// warp handles at most 31 column tiles.
    /// </summary>
    private static int FusedWarps(int groups, int cols)
    {
        int tiles = (cols + 127) / 128;
        int w = WarpsOverride ?? (groups >= FourWarpGroups ? 4 : groups >= EightWarpGroups ? 8 : 16);
        while (tiles > 31 * w && w < 16) w *= 2;
        if (tiles > 31 * w) throw new UnsupportedModelException($"matrices of {cols} columns exceed the fused GPU matvec (at most {31 * 16 * 128})");
        return w;
    }

    /// <summary>For A/B timings: CODECLLM_FM_RAW_GRID=groups runs batch-1 raw BF16 matvecs with one block per 8-row group.</summary>
    private static readonly bool RawOneBlockPerGroup = Environment.GetEnvironmentVariable("CODECLLM_FM_RAW_GRID") == "groups";

    /// <summary>For A/B timings: CODECLLM_FM_BALANCED=0 never balances the persistent grid (<see cref="PersistentGrid"/>), 1 always does.</summary>
    private static readonly string? BalanceOverride = Environment.GetEnvironmentVariable("CODECLLM_FM_BALANCED");

    /// <summary>
    /// Blocks of a persistent raw matvec over <paramref name="groups"/> row groups when <paramref name="fit"/> fit on the GPU:
    /// the fewest that take no more groups each than <paramref name="fit"/> blocks would (every block then has the same
    /// number of groups, give or take one, instead of a last round that a few blocks work through alone), unless that
    /// leaves more than a quarter of the fitting blocks idle (then they all run). H100, session 11: TinyLlama
    /// uncompressed 931 -> 964-971 tok/s balanced always; Llama-2-7B 184 -> 180, whose o and down projections (512 groups
    /// on 396 blocks) would run on half the blocks.
    /// </summary>
    internal static int PersistentGrid(int groups, int fit)
    {
        fit = Math.Clamp(fit, 1, Math.Max(1, groups));
        int per = (groups + fit - 1) / fit;
        int balanced = (groups + per - 1) / per;
        bool balance = BalanceOverride switch { "0" => false, "1" => true, _ => 4L * balanced >= 3L * fit };
        return balance ? balanced : fit;
    }

    private readonly Dictionary<CudaFunction, int> _persistentBlocks = [];

    /// <summary>At most this many blocks per persistent matvec launch (tests: many groups per block); null = what fits.</summary>
    internal int? FusedGridLimit { get; set; }

    /// <summary>Every block of the persistent matvec that fits on the GPU at once (registers, shared memory).</summary>
    private int PersistentBlocks(CudaFunction f, int threads)
    {
        lock (_persistentBlocks)
        {
            if (!_persistentBlocks.TryGetValue(f, out int n))
                _persistentBlocks[f] = n = Math.Max(1, f.MaxActiveBlocksPerMultiprocessor(threads)) * _context.MultiprocessorCount;
            return Math.Min(n, FusedGridLimit ?? int.MaxValue);
        }
    }

    /// <summary>The 8-row groups of a matrix that its warp count follows: those of the whole matrix a row slice is part of.</summary>
    private static int OrderGroupsOf(MatvecWeight w) => (Math.Max(w.Rows, w.FullRows) + 7) / 8;

    private void FusedMatvec(CudaStream s, ReadOnlySpan<MatvecTarget> targets, ulong x, int cols, ulong normW, float eps, ulong resid, ulong up, bool programmatic,
        int batch, int ldOut, int wholeGroups, bool glu)
    {
        WeightEncoding enc = targets[0].Weight.Encoding;
        bool mixed = false;
        foreach (MatvecTarget t in targets) mixed |= t.Weight.Encoding != enc;
        if (mixed)  // never with glu (Matvec checks that gate and up share an encoding)
        {
            // Raw and `fixed` matrices in one launch (a model compressed with --tensors globs, e.g. gate but not up): one
            // launch per matrix, each with the whole launch's warp count, so every row sums as in the combined launch.
            int whole = wholeGroups;
            if (whole == 0)
                foreach (MatvecTarget t in targets) whole += OrderGroupsOf(t.Weight);
            for (int i = 0; i < targets.Length; i++)
                FusedMatvec(s, targets.Slice(i, 1), x, cols, normW, eps, resid, up, programmatic, batch, ldOut, whole, false);
            return;
        }
        var segs = new FmSeg[3];
        int groups = 0, orderGroups = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            MatvecWeight w = targets[i].Weight;
            if (w.Encoding != enc || w.Cols != cols) throw new ArgumentException("matrices of one matvec must share encoding and columns");
            segs[i] = new FmSeg
            {
                W = w.W,
                TileOffsets = w.Aux0,
                Escapes = w.Aux1,
                Base = (uint)w.Aux2,
                Bias = targets[i].Bias,
                Out = targets[i].Out,
                Rows = w.Rows,
                GroupStart = groups,
            };
            groups += (w.Rows + 7) / 8;
            orderGroups += OrderGroupsOf(w);
        }
        if (groups == 0) return;
        // The warps follow all the launch's groups (so the sums are those of a gate/up launch without the epilogue); the
        // epilogue's grid is the gate's groups, each block summing gate and up group g.
        int warps = FusedWarps(wholeGroups > 0 ? wholeGroups : orderGroups, cols);
        if (glu) groups = segs[1].GroupStart;
        var p = new FmParams { Seg0 = segs[0], Seg1 = segs[1], Seg2 = segs[2], X = x, X2 = up, NormW = normW, Resid = resid, NSeg = targets.Length, Cols = cols, Eps = eps, Groups = groups };
        int act = glu ? 3 : normW != 0 ? 1 : up != 0 ? 2 : 0;
        string name = $"fm_{(enc == WeightEncoding.Fixed ? "fixed" : "raw")}_a{act}_w{warps}";
        if (batch == 1 && enc == WeightEncoding.BF16 && !RawOneBlockPerGroup)
        {
            // Persistent blocks (fm_engine_persistent): the same sums as one block per group, streamed without waves.
            CudaFunction f = _k.Function("fused_matvec.cu", $"fm_rawp_a{act}_w{warps}");
            int grid = PersistentGrid(groups, PersistentBlocks(f, warps * 32));
            f.Launch(s, ((uint)grid, 1u, 1u), (uint)(warps * 32), 0, p, programmatic && UseProgrammaticLaunch);
            return;
        }
        if (batch == 1)
        {
            _k.Function("fused_matvec.cu", name).Launch(s, ((uint)groups, 1u, 1u), (uint)(warps * 32), 0, p, programmatic && UseProgrammaticLaunch);
            return;
        }
        // The same warps (a function of the shape only): each batch row sums in the batch-of-one order.
        _k.Module("fused_matvec.cu", BatchSymbol).Function($"{name}_b{BatchKernelRows(batch)}").Launch(s, ((uint)groups, 1u, 1u), (uint)(warps * 32), 0,
            new FmBatchParams { P = p, LdOut = ldOut, Nb = batch }, programmatic && UseProgrammaticLaunch);
    }
}
