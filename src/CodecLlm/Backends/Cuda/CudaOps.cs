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

/// <summary>A matrix operand of a matvec: where its (possibly encoded) elements are and its shape.</summary>
internal readonly record struct MatvecWeight(WeightEncoding Encoding, ulong W, int Rows, int Cols, ulong Aux0 = 0, ulong Aux1 = 0, ulong Aux2 = 0)
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
        : this with { W = W + (ulong)((long)first * Cols * ElementBytes), Rows = count };

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
    private readonly uint _matvecGridCap, _matvecGridCapFixed;

    /// <summary>Programmatic dependent launches for matvecs (CODECLLM_PDL=0 turns them off).</summary>
    public static bool UseProgrammaticLaunch { get; } = Environment.GetEnvironmentVariable("CODECLLM_PDL") != "0";

    public CudaOps(CudaContext context)
    {
        _context = context;
        _k = context.Kernels;
        _gridCap = (uint)context.MultiprocessorCount * 8;
        // Few enough blocks that each loops over several row groups: every block stages the whole input
        // vector, so more blocks means more L2 traffic (CODECLLM_MV_BLOCKS_PER_SM overrides, for tuning).
        // Measured on an H100 (docs/PERFORMANCE.md): raw 4 per SM, fused fixed (more arithmetic) 8 per SM.
        int? env = int.TryParse(Environment.GetEnvironmentVariable("CODECLLM_MV_BLOCKS_PER_SM"), out int b) && b > 0 ? b : null;
        _matvecGridCap = (uint)(context.MultiprocessorCount * (env ?? 4));
        _matvecGridCapFixed = (uint)(context.MultiprocessorCount * (env ?? 8));
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
        foreach (string f in new[] { "elementwise.cu", "attention.cu", "matvec.cu", "sampling.cu" }) _k.Module(f);
    }

    public void Embed(CudaStream s, int tableType, ulong table, ulong tokens, ulong output, int dim, int count) =>
        _k.Function("elementwise.cu", "embed_" + Suffix(tableType)).Launch(s, ((uint)Math.Min((dim + Threads - 1) / Threads, 64), (uint)count, 1u), Threads, 0,
            new EmbedParams { Table = table, Tokens = tokens, Out = output, Dim = dim, Count = count });

    public void RmsNorm(CudaStream s, ulong x, ulong w, ulong output, int outType, int dim, int rows, float eps) =>
        _k.Function("elementwise.cu", "rmsnorm_" + Suffix(outType)).Launch(s, (uint)rows, Threads, 0,
            new RmsNormParams { X = x, W = w, Out = output, Dim = dim, Eps = eps });

    public void AddInPlace(CudaStream s, ulong y, ulong x, long n) =>
        _k.Function("elementwise.cu", "add_inplace").Launch(s, Grid(n), Threads, 0, new AddParams { Y = y, X = x, N = n });

    public void Swiglu(CudaStream s, ulong gate, ulong up, ulong output, long n) =>
        _k.Function("elementwise.cu", "swiglu").Launch(s, Grid(n), Threads, 0, new SwigluParams { Gate = gate, Up = up, Out = output, N = n });

    public void AddBiasRows(CudaStream s, ulong x, ulong bias, int dim, long n) =>
        _k.Function("elementwise.cu", "add_bias_rows").Launch(s, Grid(n), Threads, 0, new BiasParams { X = x, Bias = bias, Dim = dim, N = n });

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

    public void RopeKv(CudaStream s, int kvType, in RopeKvParams p) =>
        _k.Function("attention.cu", "rope_kv_" + Suffix(kvType)).Launch(s, ((uint)p.T, (uint)(p.NHeads + p.NKvHeads), 1u), 64, 0, p);

    /// <summary>Causal attention for T queries; <paramref name="maxPositions"/> sizes the score buffer.</summary>
    public void Attention(CudaStream s, int kvType, in AttnParams p, int maxPositions) =>
        _k.Function("attention.cu", "attention_" + Suffix(kvType)).Launch(s, ((uint)p.NHeads, (uint)p.T, 1u), AttentionThreads,
            (uint)((p.HeadDim * (3 + Math.Max(1, (int)AttentionThreads / p.HeadDim)) + maxPositions) * sizeof(float)), p);

    private const uint AttentionThreads = 512;

    public void Argmax(CudaStream s, ulong logits, ulong output, int n) =>
        _k.Function("sampling.cu", "argmax").Launch(s, 1, 1024, 0, new ArgmaxParams { Logits = logits, Out = output, N = n });

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
    /// </summary>
    public void Matvec(CudaStream s, ReadOnlySpan<MatvecTarget> targets, ulong x, int cols, ulong normW = 0, float eps = 0, ulong resid = 0, ulong up = 0,
        bool programmatic = false)
    {
        if (targets.Length is < 1 or > 3) throw new ArgumentException("a matvec takes one to three matrices");
        WeightEncoding enc = targets[0].Weight.Encoding;
        bool vec = true;
        var segs = new MvSeg[3];
        int groups = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            MatvecWeight w = targets[i].Weight;
            if (w.Encoding != enc || w.Cols != cols) throw new ArgumentException("matrices of one matvec must share encoding and columns");
            vec &= enc == WeightEncoding.Fixed || (cols % 8 == 0 && w.W % 16 == 0);
            segs[i] = new MvSeg { W = w.W, Aux0 = w.Aux0, Aux1 = w.Aux1, Aux2 = w.Aux2, Bias = targets[i].Bias, Out = targets[i].Out, Rows = w.Rows, GroupStart = groups };
            groups += (w.Rows + 3) / 4;
        }
        string name = enc switch
        {
            WeightEncoding.F32 => "matvec_f32",
            WeightEncoding.F16 => "matvec_f16",
            WeightEncoding.BF16 => "matvec_bf16",
            _ => "matvec_fixed",
        };
        string file = enc == WeightEncoding.Fixed ? "fixed.cu" : "matvec.cu";
        if (enc != WeightEncoding.Fixed) name += vec ? "_vec" : "_scalar";
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
        uint grid = (uint)Math.Clamp(groups, 1, enc == WeightEncoding.Fixed ? _matvecGridCapFixed : _matvecGridCap);
        uint padded = (uint)((cols + 255) / 256 * 256);
        _k.Function(file, name).Launch(s, (grid, 1u, 1u), warps * 32, padded * sizeof(float), p, programmatic && UseProgrammaticLaunch);
    }
}
