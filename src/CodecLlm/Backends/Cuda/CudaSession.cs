using System.Numerics;
using CodecLlm.Backends.Cuda.Interop;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// A model running on the GPU. Decode steps (one token) run batch-1 matvec kernels, RMSNorm fused into
/// the matvec input, SwiGLU and residual adds fused into its output, captured once as a CUDA graph that
/// reads the token and position from device memory. Prefill (several tokens) runs cuBLAS GEMMs. Weights
/// left compressed are decoded on the fly: `fixed` inside the matvec (fused) or, like `entropy` and for
/// every GEMM, into double-buffered scratch on a second stream (<see cref="ScratchPipeline"/>). A session of
/// <see cref="SessionOptions.MaxBatch"/> &gt; 1 sequences also decodes them together (CudaSession.Batch.cs).
/// </summary>
public sealed unsafe partial class CudaSession : IBatchedInferenceSession
{
    /// <summary>
    /// Decode steps: Qkv, O, GateUp, Down (fused matvecs), Head. Prefill steps: AttnIn (RMSNorm + GEMM input),
    /// Gemm (one row slice of one matrix), AttnOut (biases + attention), OIn, ResidAdd, MlpIn, MlpMid (SwiGLU), Head.
    /// </summary>
    private enum StepKind { Qkv, O, GateUp, Down, Head, AttnIn, Gemm, AttnOut, OIn, ResidAdd, MlpIn, MlpMid }

    /// <summary>The input of a prefill GEMM: the normed activations, the attention output, or SwiGLU(gate, up).</summary>
    private enum GemmSource { Normed, Attention, Hidden }

    /// <summary>
    /// One compute step of a pass and the scratch decodes it needs (null: none). Head and Gemm steps cover
    /// rows [Row0, Row0 + Rows) of their matrix; a Gemm step writes them to <see cref="Out"/>.
    /// </summary>
    private sealed record Step(StepKind Kind, int Layer, int Row0, int Rows, ScratchPart[]? Scratch, GpuMatrix? Matrix = null, GemmSource Source = GemmSource.Normed,
        ulong Out = 0)
    {
        /// <summary>
        /// A decode step cut into row slices (decode to scratch, <see cref="CudaBackendOptions.DecodeSliceBytes"/>): this unit's
        /// slices, at most one per matrix (null: the step's whole matrices).
        /// </summary>
        public Piece[]? Pieces { get; init; }

        /// <summary>A sliced step's last unit (attention follows the last q/k/v unit).</summary>
        public bool Last { get; init; } = true;

        /// <summary>A sliced step's row groups (8 rows) over all its matrices: the matvec's warp count follows the whole step.</summary>
        public int OrderGroups { get; init; }
    }

    /// <summary>Rows [Row0, Row0 + Rows) of a matrix (Row0 a multiple of 8).</summary>
    private sealed record Piece(GpuMatrix Matrix, int Row0, int Rows);

    private readonly CudaContext _ctx;
    private readonly ModelConfig _cfg;
    private readonly CudaBackendOptions _opt;
    private readonly CudaOps _ops;
    private readonly CudaStream _stream;
    private readonly SharedWeights<CudaWeights>.Lease _lease;
    private readonly CudaWeights _w;
    private readonly DeviceBuffer _kCache, _vCache, _invFreq;
    private readonly int _kvType, _wType, _chunk;

    /// <summary>Positions whose cache rows the decode attention stages in shared memory before its wait (split: of a block's own positions).</summary>
    private readonly int _attnStageRows;

    /// <summary>Decode attention split over positions (<see cref="CudaOps.DecodeAttentionSplit"/>): positions a block, blocks a head at most, and the workspace and counters of the combine (null: one block a head).</summary>
    private readonly int _attnSplitLen, _attnSplitMax;

    private readonly DeviceBuffer? _attnSplitWs, _attnSplitCount;
    private readonly List<DeviceBuffer> _buffers = [];
    private readonly DeviceBuffer _x, _xn, _q, _k, _v, _att, _attc, _tmp, _gate, _up, _hc, _logits, _tokens, _pos, _next;

    /// <summary>SwiGLU's f32 output, the down projection's GEMM input with f32 weights (f16/bf16 weights: <see cref="_hc"/> instead).</summary>
    private readonly DeviceBuffer? _h;
    private readonly PinnedBuffer _pinnedIn, _pinnedLogits;
    private readonly ScratchPipeline? _pipeline;
    private readonly List<Step> _decodeSteps, _prefillSteps;
    private readonly CublasHandle _cublas;
    private readonly DeviceBuffer _cublasWorkspace;

    /// <summary>
    /// f16/bf16 prefill GEMMs run once over the activations' [hi | lo] halves (2n columns: the weights read once) straight
    /// into [2n, rows] outputs (q, k, v, tmp, gate, up hold 2 × the chunk's rows): rows [0, n) W·hi, [n, 2n) W·lo. Their
    /// consumers sum the two as they read them (RoPE or the bias for q/k/v, the residual add for o and down, SwiGLU for
    /// gate and up), so no launch sums them alone. Off with CODECLLM_PREFILL_GEMM_PAIRS=0 (two GEMMs, for A/B timings).
    /// </summary>
    private readonly bool _foldHalves;

    /// <summary>CODECLLM_PREFILL_GEMM_PAIRS=0: f16/bf16 prefill GEMMs as two calls, W·hi then W·lo added by cuBLAS (A/B timing).</summary>
    private static readonly bool PrefillGemmPairsOff = Environment.GetEnvironmentVariable("CODECLLM_PREFILL_GEMM_PAIRS") == "0";
    private CudaGraphExecHandle? _graph;

    /// <summary>
    /// Decode steps may compute SwiGLU in the gate/up matvec's epilogue (h = silu(gate) * up into the gate buffer, the
    /// down projection reads h as it is): when the gate and up weights are BF16 (the fused matvec) and no step is sliced
    /// (its gate and up rows in different launches); for A/B timings, CODECLLM_GLU_EPILOGUE=0 turns it off. The same sums
    /// either way: logits are the same bits.
    /// </summary>
    private readonly bool _gluEpilogue;

    /// <summary>Whether the last gate/up launch enqueued wrote h (<see cref="GluFor"/>); its layer's down step reads it.</summary>
    private bool _gateHoldsH;

    private static readonly bool GluEpilogueOff = Environment.GetEnvironmentVariable("CODECLLM_GLU_EPILOGUE") == "0";

    /// <summary>For A/B timings: CODECLLM_GLU_RAW=0 keeps raw BF16 gate/up launches without the SwiGLU epilogue (<see cref="GluFor"/>).</summary>
    private static readonly bool GluRawOff = Environment.GetEnvironmentVariable("CODECLLM_GLU_RAW") == "0";

    /// <summary>
    /// For timing only: CODECLLM_PROBE_SKIP, a comma list of the decode step's roles (qkv, attn, o, gateup, down, head;
    /// whole steps, not sliced ones) whose launches the step leaves out, so that the step's time without a role gives that role's marginal cost
    /// in the real schedule (CUDA graph, programmatic dependent launch), which serialised per-kernel times cannot show.
    /// The logits are then not the model's. Unset: nothing is left out.
    /// </summary>
    internal static readonly IReadOnlySet<string> ProbeSkip = TuningEnvironment.Names("CODECLLM_PROBE_SKIP");

    private static bool Probed(string role) => ProbeSkip.Contains(role);

    private static readonly long? SliceMbOverride = TuningEnvironment.AtLeast("CODECLLM_DECODE_SLICE_MB", 0);
    private static readonly long? SlotsOverride = TuningEnvironment.AtLeast("CODECLLM_SCRATCH_SLOTS", 2);

    /// <summary>See <see cref="CudaBackendOptions.DecodeSliceBytes"/> (CODECLLM_DECODE_SLICE_MB overrides).</summary>
    private long DecodeSliceBytes => SliceMbOverride is long mb ? mb << 20 : _opt.DecodeSliceBytes;

    private int ScratchSlots => (int)Math.Max(2, SlotsOverride ?? _opt.ScratchSlots);

    private static readonly long? PrefillSlotsOverride = TuningEnvironment.AtLeast("CODECLLM_PREFILL_SLOTS", 1);

    private int PrefillScratchSlots => (int)Math.Max(1, PrefillSlotsOverride ?? _opt.PrefillScratchSlots);

    /// <summary>Bytes of one sequence's K (or V) cache, all layers; sequence s's cache starts s times this far in.</summary>
    private readonly long _seqKvBytes;

    /// <summary>The sequence a prefill works on (0 outside <see cref="Prefill(int, ReadOnlySpan{int}, int, Span{float})"/>).</summary>
    private int _seq;

    /// <summary>
    /// A session on <paramref name="ctx"/>. With <paramref name="shared"/>, the weights are those of every other live
    /// session of <paramref name="model"/> (uploaded by the first); otherwise the session uploads its own.
    /// </summary>
    internal CudaSession(CudaContext ctx, LoadedModel model, SessionOptions options, CudaBackendOptions backendOptions, SharedWeights<CudaWeights>? shared = null)
    {
        _ctx = ctx;
        _cfg = model.Config;
        _opt = backendOptions;
        ctx.MakeCurrent();
        ModelConfig c = _cfg;
        MaxSequenceLength = Math.Min(options.MaxSequenceLength ?? c.MaxSequenceLength, c.MaxSequenceLength);
        if (MaxSequenceLength < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxSequenceLength must be positive");
        BatchArguments.CheckMaxBatch(options.MaxBatch);
        MaxBatch = options.MaxBatch;
        _kvType = options.KvCacheType.ToLowerInvariant() switch
        {
            "f32" => 0,
            "f16" => 1,
            "bf16" => 2,
            _ => throw new UnsupportedModelException($"unknown KV cache type '{options.KvCacheType}' (f32, f16, bf16)"),
        };
        _chunk = Math.Clamp(backendOptions.PrefillChunk, 1, MaxSequenceLength);

        Func<ModelTensor, bool> keep = t => backendOptions.CompressedGroups == null || backendOptions.CompressedGroups.Contains(TensorNames.GroupOf(t.Name));
        long kvBytes = 2L * c.NumLayers * MaxSequenceLength * c.KvDim * CudaOps.KvElementBytes(_kvType) * MaxBatch;
        long weightBytes = shared?.Contains(model) == true ? 0 : CudaWeights.PlannedBytes(model, keep);
        (long free, _) = ctx.MemoryInfo();
        string sequences = MaxBatch == 1 ? "" : $" for {MaxBatch} sequences";
        if (weightBytes + kvBytes > free)
            throw new DeviceOutOfMemoryException($"{model.SourcePath}: needs {weightBytes + kvBytes:N0} bytes of GPU memory (weights {weightBytes:N0}, KV cache {kvBytes:N0}{sequences}), {free:N0} free on {ctx.DeviceName}");

        if (CudaOps.AttentionFloats(c.HeadDim, MaxSequenceLength) * sizeof(float) > ctx.MaxSharedMemoryPerBlock)
            throw new UnsupportedModelException($"a context of {MaxSequenceLength} positions exceeds the GPU attention kernel's shared memory; pass a smaller maximum sequence length");
        _attnStageRows = CudaOps.AttentionStageRows(ctx.MaxSharedMemoryPerBlock, _kvType, c.HeadDim, MaxSequenceLength);
        _ops = new CudaOps(ctx);
        _ops.Warm();
        if (MaxBatch > 1) _ops.WarmBatch();
        _stream = new CudaStream(ctx);
        try
        {
            CudaWeights Load()
            {
                CudaWeights w = CudaWeights.Load(ctx, _stream, model, keep);
                _stream.Synchronize();  // other sessions' streams use them next
                return w;
            }
            _lease = shared?.Acquire(model, Load) ?? SharedWeights<CudaWeights>.Private(Load());
            _w = _lease.Weights;
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
        _wType = CudaOps.DTypeCode(_w.Layers[0].Q.DType);

        long kvLayer = (long)MaxSequenceLength * c.KvDim * CudaOps.KvElementBytes(_kvType);
        _seqKvBytes = kvLayer * c.NumLayers;
        _kCache = Alloc(_seqKvBytes * MaxBatch, MemoryCategory.KvCache, "K cache");
        _vCache = Alloc(_seqKvBytes * MaxBatch, MemoryCategory.KvCache, "V cache");
        _invFreq = _stream.UploadNew<float>(ctx.Allocator, RopeFrequencies(c), MemoryCategory.Workspace, "rope frequencies");
        _buffers.Add(_invFreq);
        if (CudaOps.DecodeAttentionSplit > 0 && MaxSequenceLength > CudaOps.DecodeAttentionSplit && CudaOps.UsesDecodeAttention(new AttnParams { FuseRope = 1, HeadDim = c.HeadDim }))
        {
            _attnSplitLen = CudaOps.DecodeAttentionSplit;
            _attnSplitMax = (MaxSequenceLength + _attnSplitLen - 1) / _attnSplitLen;
            _attnSplitWs = Alloc(4L * MaxBatch * c.NumHeads * _attnSplitMax * (c.HeadDim + 2), MemoryCategory.Workspace, "attention split partials");
            _attnSplitCount = Alloc(4L * MaxBatch * c.NumHeads, MemoryCategory.Workspace, "attention split counters");
            _stream.Fill(_attnSplitCount, 0);
            _attnStageRows = Math.Min(_attnStageRows, _attnSplitLen);  // a block stages rows of its own positions only
        }
        // Activation rows: a prefill chunk's tokens, or the rows a batched matvec kernel reads (it computes whole 2/4/8-row batches).
        int t = Math.Max(_chunk, MaxBatch == 1 ? 1 : CudaOps.BatchKernelRows(MaxBatch)), wsz = _wType == 0 ? 4 : 2;
        _x = Alloc(4L * t * c.HiddenSize, MemoryCategory.Activations, "x");
        int split = _wType == 0 ? 1 : 2; // f16/bf16 GEMM inputs are hi + lo pairs
        _xn = Alloc((long)split * wsz * t * Math.Max(c.HiddenSize, c.IntermediateSize), MemoryCategory.Activations, "xn");
        _foldHalves = split == 2 && !PrefillGemmPairsOff;
        int halves = _foldHalves ? 2 : 1;  // [hi | lo] GEMM outputs
        _q = Alloc(4L * halves * t * c.QDim, MemoryCategory.Activations, "q");
        _k = Alloc(4L * halves * t * c.KvDim, MemoryCategory.Activations, "k");
        _v = Alloc(4L * halves * t * c.KvDim, MemoryCategory.Activations, "v");
        _att = Alloc(4L * t * c.QDim, MemoryCategory.Activations, "att");
        _attc = Alloc((long)split * wsz * t * c.QDim, MemoryCategory.Activations, "att (gemm input)");
        _tmp = Alloc(4L * halves * t * c.HiddenSize, MemoryCategory.Activations, "tmp");
        _gate = Alloc(4L * halves * t * c.IntermediateSize, MemoryCategory.Activations, "gate");
        _up = Alloc(4L * halves * t * c.IntermediateSize, MemoryCategory.Activations, "up");
        if (split == 1) _h = Alloc(4L * t * c.IntermediateSize, MemoryCategory.Activations, "h");
        _hc = Alloc((long)split * wsz * t * c.IntermediateSize, MemoryCategory.Activations, "h (gemm input)");
        _logits = Alloc(4L * c.VocabSize * MaxBatch, MemoryCategory.Activations, "logits");
        _tokens = Alloc(4L * t, MemoryCategory.Workspace, "tokens");
        _pos = Alloc(4L * MaxBatch, MemoryCategory.Workspace, "position");
        _next = Alloc(4L * MaxBatch, MemoryCategory.Workspace, "next token");
        _pinnedIn = new PinnedBuffer(ctx, 4L * (t + 2));
        _pinnedLogits = new PinnedBuffer(ctx, 4L * c.VocabSize * MaxBatch);
        if (MaxBatch > 1) _pinnedBatch = new PinnedBuffer(ctx, 4L * 3 * MaxBatch);

        _decodeSteps = PlanSteps(prefill: false, out long decodeSlot);
        _gluEpilogue = !GluEpilogueOff && !_decodeSteps.Any(s => s.Pieces != null)
            && _w.Layers.All(l => l.Gate.DType == TensorDType.BF16 && l.Up.DType == TensorDType.BF16);  // the fused matvec's weights
        _prefillSteps = PlanSteps(prefill: true, out long prefillSlot);
        long slot = Math.Max(decodeSlot, prefillSlot);
        if (slot > 0)
            _pipeline = new ScratchPipeline(ctx, slot, _decodeSteps.Any(st => st.Scratch != null) ? ScratchSlots : PrefillScratchSlots);

        _cublas = new CublasHandle(ctx.Handle);
        IntPtr h;
        CudaLibraries.Require(CudaLibraries.Cublas);
        Cublas.Check(Cublas.cublasCreate(&h), "cublasCreate");
        _cublas.Set(h);
        Cublas.Check(Cublas.cublasSetStream(h, _stream.Handle), "cublasSetStream");
        _cublasWorkspace = Alloc(32L << 20, MemoryCategory.Workspace, "cuBLAS workspace");
        Cublas.Check(Cublas.cublasSetWorkspace_v2(h, _cublasWorkspace.Pointer, (nuint)_cublasWorkspace.Bytes), "cublasSetWorkspace");
        _stream.Synchronize();
    }

    public ModelConfig Config => _cfg;

    public string BackendName => "cuda";

    public int MaxSequenceLength { get; }

    /// <summary>Sequences this session holds (<see cref="SessionOptions.MaxBatch"/>), each with its own KV cache.</summary>
    public int MaxBatch { get; }

    public CudaContext Context => _ctx;

    /// <summary>Decode-step units that decode into scratch (row slices count one each; tests).</summary>
    internal int DecodeScratchUnits => _decodeSteps.Count(st => st.Scratch != null);

    /// <summary>Bytes of weights kept compressed in VRAM, and what they decode to.</summary>
    public (long Compressed, long Decoded) CompressedWeightBytes =>
        (_w.Matrices.Distinct().Where(m => m.IsCompressed).Sum(m => m.Buffer.Bytes), _w.Matrices.Distinct().Where(m => m.IsCompressed).Sum(m => m.DecodedBytes));

    private DeviceBuffer Alloc(long bytes, MemoryCategory cat, string what)
    {
        DeviceBuffer b = _ctx.Allocator.Allocate(bytes, cat, what);
        _buffers.Add(b);
        return b;
    }

    private static float[] RopeFrequencies(ModelConfig c)
    {
        int half = c.HeadDim / 2;
        var f = new float[half];
        for (int i = 0; i < half; i++)
        {
            double freq = 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim);
            if (c.RopeScaling is { Type: "llama3" } s)
            {
                double wavelen = 2 * Math.PI / freq;
                double lowWl = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWl = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                if (wavelen > lowWl) freq /= s.Factor;
                else if (wavelen >= highWl)
                {
                    double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    freq = (1 - smooth) * freq / s.Factor + smooth * freq;
                }
            }
            f[i] = (float)freq;
        }
        return f;
    }

    /// <summary>The steps of a pass; for each, the compressed matrices it needs decoded to scratch.</summary>
    private List<Step> PlanSteps(bool prefill, out long slotBytes)
    {
        // The fused kernels read fixed BF16 tiles only: F16/F32 fixed matrices are decoded to scratch in decode steps too.
        bool NeedsScratch(GpuMatrix m) => m.IsCompressed && (prefill || !(_opt.FusedFixed && m.Codec == "fixed" && m.DType == TensorDType.BF16));
        ScratchPart[]? Parts(params GpuMatrix[] ms)
        {
            var parts = new List<ScratchPart>();
            long off = 0;
            foreach (GpuMatrix m in ms.Where(NeedsScratch))
            {
                parts.Add(new ScratchPart(m, 0, -1, off));
                off += ScratchPipeline.Aligned(m.DecodedBytes);
            }
            return parts.Count == 0 ? null : parts.ToArray();
        }
        var steps = new List<Step>();
        long decodeSlot = 0;
        void AddDecodeStep(StepKind kind, int layer, params GpuMatrix[] ms)
        {
            ScratchPart[]? whole = Parts(ms);
            long budget = DecodeSliceBytes;
            long wholeBytes = whole?.Sum(p => ScratchPipeline.Aligned(p.Matrix.DecodedBytes)) ?? 0;
            if (whole == null || budget <= 0 || wholeBytes <= budget || whole.Any(p => p.Matrix.Codec != "fixed"))
            {
                steps.Add(new Step(kind, layer, 0, 0, whole));
                decodeSlot = Math.Max(decodeSlot, wholeBytes);
                return;
            }
            foreach (Step unit in SliceDecodeStep(kind, layer, ms, budget, NeedsScratch))
            {
                steps.Add(unit);
                decodeSlot = Math.Max(decodeSlot, unit.Scratch?.Sum(p => ScratchPipeline.Aligned(PartBytes(p))) ?? 0);
            }
        }
        slotBytes = 0;
        if (prefill)
        {
            slotBytes = PlanPrefillLayers(steps);
        }
        else
        {
            foreach (var (l, i) in _w.Layers.Select((l, i) => (l, i)))
            {
                AddDecodeStep(StepKind.Qkv, i, l.Q, l.K, l.V);
                AddDecodeStep(StepKind.O, i, l.O);
                AddDecodeStep(StepKind.GateUp, i, l.Gate, l.Up);
                AddDecodeStep(StepKind.Down, i, l.Down);
            }
        }
        if (!prefill) slotBytes = decodeSlot;
        if (prefill && slotBytes == 0 && _w.Head.IsCompressed) slotBytes = Math.Max(_opt.PrefillSliceBytes, 1L << 20);
        GpuMatrix head = _w.Head;
        if (!NeedsScratch(head))
        {
            steps.Add(new Step(StepKind.Head, 0, 0, head.Rows, null));
        }
        else if (head.Codec == "fixed" && slotBytes > 0)
        {
            // Slice the head into row ranges (whole 8-row tile groups) no larger than a layer's slot, so it needs no bigger scratch.
            long rowBytes = (long)head.Cols * head.DType.ByteSize();
            int rowsPer = (int)Math.Max(8, slotBytes / rowBytes / 8 * 8);
            for (int r = 0; r < head.Rows; r += rowsPer)
            {
                int n = Math.Min(rowsPer, head.Rows - r);
                steps.Add(new Step(StepKind.Head, 0, r, n, [new ScratchPart(head, r / 8, (r + n + 7) / 8, 0)]));
            }
            slotBytes = Math.Max(slotBytes, (long)Math.Min(rowsPer, head.Rows) * rowBytes);
        }
        else if (head.Codec == "entropy" && slotBytes > 0)
        {
            // Slices of whole lane-stream groups: rows per slice a multiple of (group elements / gcd(group elements, cols)).
            long groupElements = GpuDecoders.EntropyGroupElements(head);
            long align = groupElements / (long)BigInteger.GreatestCommonDivisor(groupElements, head.Cols);
            long rowBytes = (long)head.Cols * head.DType.ByteSize();
            int rowsPer = (int)Math.Max(align, slotBytes / rowBytes / align * align);
            for (int r = 0; r < head.Rows; r += rowsPer)
            {
                int n = Math.Min(rowsPer, head.Rows - r);
                int g0 = (int)((long)r * head.Cols / groupElements);
                int g1 = r + n == head.Rows ? -1 : (int)((long)(r + n) * head.Cols / groupElements);
                steps.Add(new Step(StepKind.Head, 0, r, n, [new ScratchPart(head, g0, g1, 0)]));
            }
            slotBytes = Math.Max(slotBytes, (long)Math.Min(rowsPer, head.Rows) * rowBytes);
        }
        else
        {
            steps.Add(new Step(StepKind.Head, 0, 0, head.Rows, [new ScratchPart(head, 0, -1, 0)]));
            slotBytes = Math.Max(slotBytes, ScratchPipeline.Aligned(head.DecodedBytes));
        }
        return steps;
    }

    /// <summary>Decoded bytes of a `fixed` scratch part (row groups [Rg0, Rg1) of its matrix).</summary>
    private static long PartBytes(ScratchPart p)
    {
        GpuMatrix m = p.Matrix;
        int r1 = p.Rg1 < 0 ? m.Rows : Math.Min(m.Rows, p.Rg1 * 8);
        return (long)(r1 - p.Rg0 * 8) * m.Cols * m.DType.ByteSize();
    }

    /// <summary>
    /// A decode step over <paramref name="ms"/> cut into units of at most <paramref name="budget"/> decoded bytes: each matrix
    /// in equal row slices of whole 8-row groups, consecutive slices of different matrices packed into one unit while they fit
    /// (one matvec launch of up to three slices). Every slice's rows sum exactly as in the whole step's launch (the warp count
    /// follows <see cref="Step.OrderGroups"/>), so the logits are those of the unsliced step.
    /// </summary>
    private static IEnumerable<Step> SliceDecodeStep(StepKind kind, int layer, GpuMatrix[] ms, long budget, Func<GpuMatrix, bool> needsScratch)
    {
        int order = ms.Sum(m => (m.Rows + 7) / 8);
        var pieces = new List<Piece>();
        foreach (GpuMatrix m in ms)
        {
            long rowBytes = (long)m.Cols * m.DType.ByteSize();
            long n = Math.Max(1, (m.DecodedBytes + budget - 1) / budget);
            // Equal slices of whole 8-row groups, none above the budget (at least one group).
            int rowsPer = (int)Math.Max(8, Math.Min(((m.Rows + n - 1) / n + 7) / 8 * 8, budget / rowBytes / 8 * 8));
            for (int r0 = 0; r0 < m.Rows; r0 += rowsPer) pieces.Add(new Piece(m, r0, Math.Min(rowsPer, m.Rows - r0)));
        }
        long Bytes(Piece p) => needsScratch(p.Matrix) ? ScratchPipeline.Aligned((long)p.Rows * p.Matrix.Cols * p.Matrix.DType.ByteSize()) : 0;
        bool resid = kind is StepKind.O or StepKind.Down;  // out = x + W x: one slice per launch
        var units = new List<List<Piece>>();
        long unitBytes = 0;
        foreach (Piece p in pieces)
        {
            List<Piece>? u = units.Count > 0 ? units[^1] : null;
            if (u == null || resid || u.Count == 3 || unitBytes + Bytes(p) > budget || u.Any(x => ReferenceEquals(x.Matrix, p.Matrix)))
            {
                units.Add(u = []);
                unitBytes = 0;
            }
            u.Add(p);
            unitBytes += Bytes(p);
        }
        for (int k = 0; k < units.Count; k++)
        {
            var parts = new List<ScratchPart>();
            long off = 0;
            foreach (Piece p in units[k].Where(p => needsScratch(p.Matrix)))
            {
                parts.Add(new ScratchPart(p.Matrix, p.Row0 / 8, (p.Row0 + p.Rows + 7) / 8, off));
                off += Bytes(p);
            }
            yield return new Step(kind, layer, 0, 0, parts.Count == 0 ? null : parts.ToArray()) { Pieces = units[k].ToArray(), Last = k == units.Count - 1, OrderGroups = order };
        }
    }

    /// <summary>
    /// The prefill steps of every layer: GEMMs in row slices of at most <see cref="CudaBackendOptions.PrefillSliceBytes"/> decoded
    /// bytes (the slices depend only on the shapes). Returns the scratch slot size the compressed slices need:
    /// a slice is decoded so that its first row has the same address alignment (mod 256) as in a raw matrix.
    /// </summary>
    private long PlanPrefillLayers(List<Step> steps)
    {
        long slot = 0;
        long budget = _opt.PrefillSliceBytes > 0 ? _opt.PrefillSliceBytes
            : Math.Max(1L << 20, _w.Layers.SelectMany(l => new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down }).Max(m => m.DecodedBytes) / 2);
        void Gemms(int layer, GpuMatrix m, GemmSource source, DeviceBuffer output)
        {
            long rowBytes = (long)m.Cols * m.DType.ByteSize();
            long slices = Math.Max(1, (m.DecodedBytes + budget - 1) / budget);
            int rowsPer = (int)Math.Max(8, ((m.Rows + slices - 1) / slices + 7) / 8 * 8);  // equal slices, whole 8-row groups
            for (int r0 = 0; r0 < m.Rows; r0 += rowsPer)
            {
                int rows = Math.Min(rowsPer, m.Rows - r0);
                ScratchPart[]? parts = null;
                if (m.IsCompressed)
                {
                    long rawOffset = r0 * rowBytes % 256;
                    ScratchPart part;
                    long bytes;
                    if (m.Codec == "entropy")
                    {
                        long ge = GpuDecoders.EntropyGroupElements(m), first = (long)r0 * m.Cols, end = (long)(r0 + rows) * m.Cols;
                        int g0 = (int)(first / ge), g1 = r0 + rows == m.Rows ? -1 : (int)((end + ge - 1) / ge);
                        long lead = (first - g0 * ge) * m.DType.ByteSize();  // decoded bytes before the slice's first row
                        long pad = ((rawOffset - lead) % 256 + 256) % 256;
                        part = new ScratchPart(m, g0, g1, pad);  // the slice starts lead bytes further (see Prefill)
                        bytes = pad + ((g1 < 0 ? (long)m.Rows * m.Cols : Math.Min((long)g1 * ge, (long)m.Rows * m.Cols)) - g0 * ge) * m.DType.ByteSize();
                    }
                    else
                    {
                        part = new ScratchPart(m, r0 / 8, (r0 + rows + 7) / 8, rawOffset);
                        bytes = rawOffset + rows * rowBytes;
                    }
                    parts = [part];
                    slot = Math.Max(slot, bytes);
                }
                steps.Add(new Step(StepKind.Gemm, layer, r0, rows, parts, m, source, output.Pointer));
            }
        }
        foreach (var (l, i) in _w.Layers.Select((l, i) => (l, i)))
        {
            steps.Add(new Step(StepKind.AttnIn, i, 0, 0, null));
            Gemms(i, l.Q, GemmSource.Normed, _q);
            Gemms(i, l.K, GemmSource.Normed, _k);
            Gemms(i, l.V, GemmSource.Normed, _v);
            steps.Add(new Step(StepKind.AttnOut, i, 0, 0, null));
            steps.Add(new Step(StepKind.OIn, i, 0, 0, null));
            Gemms(i, l.O, GemmSource.Attention, _tmp);
            steps.Add(new Step(StepKind.ResidAdd, i, 0, 0, null));
            steps.Add(new Step(StepKind.MlpIn, i, 0, 0, null));
            Gemms(i, l.Gate, GemmSource.Normed, _gate);
            Gemms(i, l.Up, GemmSource.Normed, _up);
            steps.Add(new Step(StepKind.MlpMid, i, 0, 0, null));
            Gemms(i, l.Down, GemmSource.Hidden, _tmp);
            steps.Add(new Step(StepKind.ResidAdd, i, 0, 0, null));
        }
        return ScratchPipeline.Aligned(slot);
    }

    public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits) => Prefill(0, tokens, startPos, logits);

    /// <summary>
    /// <see cref="Forward"/> for sequence <paramref name="seq"/> of the session's <see cref="MaxBatch"/>: the tokens at
    /// positions startPos.. go into that sequence's KV cache; <paramref name="logits"/> are the last token's.
    /// </summary>
    public void Prefill(int seq, ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
    {
        if ((uint)seq >= (uint)MaxBatch) throw new ArgumentOutOfRangeException(nameof(seq), $"sequence {seq} outside 0..{MaxBatch - 1} (MaxBatch {MaxBatch})");
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (logits.Length != _cfg.VocabSize) throw new ArgumentException($"logits span has {logits.Length} elements, need {_cfg.VocabSize}", nameof(logits));
        if (startPos < 0 || startPos + tokens.Length > MaxSequenceLength)
            throw new ArgumentOutOfRangeException(nameof(startPos), $"positions {startPos}..{startPos + tokens.Length - 1} exceed the context of {MaxSequenceLength}");
        foreach (int tk in tokens)
            if ((uint)tk >= (uint)_cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tk} outside the vocabulary of {_cfg.VocabSize}");
        _ctx.MakeCurrent();
        _seq = seq;
        try
        {
            for (int done = 0; done < tokens.Length; done += _chunk)
            {
                int n = Math.Min(_chunk, tokens.Length - done);
                bool last = done + n == tokens.Length;
                if (done > 0) _stream.Synchronize(); // the previous chunk's copy may still read the pinned staging buffer
                Span<int> pin = _pinnedIn.AsSpan<int>();
                tokens.Slice(done, n).CopyTo(pin);
                pin[_chunk] = startPos + done;
                _stream.CopyToDevice(_tokens, 0, _pinnedIn.Pointer, 4L * n);
                _stream.CopyToDevice(_pos, 0, (int*)_pinnedIn.Pointer + _chunk, 4);
                if (n == 1 && seq == 0) DecodeStep();
                else if (n == 1) EnqueueDecode(); // the captured step works on sequence 0's cache
                else PrefillChunk(n, computeLogits: last);
            }
        }
        finally
        {
            _seq = 0;
        }
        _stream.CopyToHost(_pinnedLogits.Pointer, _logits, 0, 4L * _cfg.VocabSize);
        _stream.Synchronize();
        _pinnedLogits.AsSpan<float>()[.._cfg.VocabSize].CopyTo(logits);
    }

    /// <summary>
    /// One decode step that also picks the greedy next token on the GPU (argmax, lowest id on ties); copies
    /// the logits back only when <paramref name="logits"/> is not empty.
    /// </summary>
    public int ForwardGreedy(int token, int pos, Span<float> logits)
    {
        if ((uint)token >= (uint)_cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), $"token id {token} outside the vocabulary of {_cfg.VocabSize}");
        if (pos < 0 || pos >= MaxSequenceLength) throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} outside the context of {MaxSequenceLength}");
        _ctx.MakeCurrent();
        Span<int> pin = _pinnedIn.AsSpan<int>();
        pin[0] = token;
        pin[_chunk] = pos;
        _stream.CopyToDevice(_tokens, 0, _pinnedIn.Pointer, 4);
        _stream.CopyToDevice(_pos, 0, (int*)_pinnedIn.Pointer + _chunk, 4);
        DecodeStep();
        _stream.CopyToHost((int*)_pinnedIn.Pointer + _chunk + 1, _next, 0, 4);
        if (!logits.IsEmpty) _stream.CopyToHost(_pinnedLogits.Pointer, _logits, 0, 4L * _cfg.VocabSize);
        _stream.Synchronize();
        if (!logits.IsEmpty) _pinnedLogits.AsSpan<float>()[.._cfg.VocabSize].CopyTo(logits);
        return pin[_chunk + 1];
    }

    /// <summary>The compute stream (for timing with events).</summary>
    public CudaStream Stream => _stream;

    private void DecodeStep()
    {
        if (!_opt.UseGraphs)
        {
            EnqueueDecode();
            return;
        }
        _graph ??= Capture(EnqueueDecode);
        CuDriver.Check(CuDriver.cuGraphLaunch(_graph.DangerousGetHandle(), _stream.Handle), "cuGraphLaunch");
    }

    /// <summary>The work <paramref name="enqueue"/> puts on the stream, captured as an executable CUDA graph.</summary>
    private CudaGraphExecHandle Capture(Action enqueue)
    {
        CuDriver.Check(CuDriver.cuStreamBeginCapture(_stream.Handle, CuDriver.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        IntPtr graph;
        try
        {
            enqueue();
        }
        finally
        {
            CuDriver.Check(CuDriver.cuStreamEndCapture(_stream.Handle, &graph), "cuStreamEndCapture");
        }
        IntPtr exec;
        try
        {
            CuDriver.Check(CuDriver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
        }
        finally
        {
            CuDriver.cuGraphDestroy(graph);
        }
        var handle = new CudaGraphExecHandle(_ctx.Handle);
        handle.Set(exec);
        return handle;
    }

    private ulong Row(DeviceBuffer b, int row, int width, int elemBytes = 4) => b.Pointer + (ulong)((long)row * width * elemBytes);

    private void EnqueueDecode()
    {
        ModelConfig c = _cfg;
        Embed(1);
        RunSteps(_decodeSteps, (step, slot) => DecodeCompute(step, slot));
        // PDL only when the head matvec is the stream's last work (no scratch pipeline join in between).
        bool pdl = !_decodeSteps.Any(s => s.Scratch != null);
        _ops.Argmax(_stream, _logits.Pointer, _next.Pointer, c.VocabSize, programmatic: pdl);
    }

    /// <summary>The embedding rows of the first <paramref name="count"/> staged tokens into x (a `fixed` embedding is decoded on the fly).</summary>
    private void Embed(int count)
    {
        GpuMatrix e = _w.Embedding;
        if (e.Codec == "fixed") _ops.EmbedFixed(_stream, e.FixedOperand(), _tokens.Pointer, _x.Pointer, count);
        else _ops.Embed(_stream, CudaOps.DTypeCode(e.DType), e.Buffer.Pointer, _tokens.Pointer, _x.Pointer, _cfg.HiddenSize, count);
    }

    private void RunSteps(List<Step> steps, Action<Step, Func<GpuMatrix, MatvecWeight>> compute)
    {
        var scratchUnits = steps.Where(s => s.Scratch != null).Select(s => s.Scratch!).ToList();
        if (scratchUnits.Count > 0) _pipeline!.Begin(_stream, scratchUnits);
        int unit = 0;
        foreach (Step step in steps)
        {
            if (step.Scratch == null)
            {
                compute(step, m => Operand(m, 0, null));
                continue;
            }
            ulong slot = _pipeline!.Acquire(unit);
            compute(step, m => Operand(m, slot, step.Scratch));
            _pipeline.Release(unit);
            unit++;
        }
        if (scratchUnits.Count > 0) _pipeline!.End();
    }

    private MatvecWeight Operand(GpuMatrix m, ulong slot, ScratchPart[]? parts)
    {
        ScratchPart? p = parts?.FirstOrDefault(x => ReferenceEquals(x.Matrix, m));
        if (p != null) return m.RawOperand(slot + (ulong)p.Offset);
        if (!m.IsCompressed) return m.RawOperand();
        return m.FixedOperand();
    }

    /// <summary>One decode step's compute for <paramref name="batch"/> sequences (activations [batch][width], rows 0..batch-1).</summary>
    private void DecodeCompute(Step s, Func<GpuMatrix, MatvecWeight> op, int batch = 1)
    {
        ModelConfig c = _cfg;
        float eps = c.RmsNormEps;
        bool pdl = s.Scratch == null; // scratch steps also wait on the decode stream: keep those launches ordinary
        if (s.Pieces != null)
        {
            SlicedCompute(s, op, batch, pdl);
            return;
        }
        switch (s.Kind)
        {
            case StepKind.Qkv:
                {
                    GpuLayer l = _w.Layers[s.Layer];
                    if (!Probed("qkv"))
                        _ops.Matvec(_stream, [new(op(l.Q), _q.Pointer, Ptr(l.QBias)), new(op(l.K), _k.Pointer, Ptr(l.KBias)), new(op(l.V), _v.Pointer, Ptr(l.VBias))],
                            _x.Pointer, c.HiddenSize, l.AttnNorm.Pointer, eps, programmatic: pdl, batch: batch);
                    if (!Probed("attn")) Attend(s.Layer, batch, programmatic: pdl, batched: batch > 1);
                    break;
                }
            case StepKind.O when Probed("o"):
            case StepKind.Down when Probed("down"):
            case StepKind.Head when Probed("head"):
                break;
            case StepKind.O:
                _ops.Matvec(_stream, [new(op(_w.Layers[s.Layer].O), _x.Pointer)], _att.Pointer, c.QDim, resid: _x.Pointer, programmatic: pdl, batch: batch);
                break;
            case StepKind.GateUp:
                {
                    GpuLayer l = _w.Layers[s.Layer];
                    MatvecWeight gate = op(l.Gate), up = op(l.Up);
                    _gateHoldsH = batch == 1 && GluFor(gate, up);  // the down projection's input (left out or not: the same down kernel)
                    if (!Probed("gateup"))
                        _ops.Matvec(_stream, [new(gate, _gate.Pointer), new(up, _up.Pointer)], _x.Pointer, c.HiddenSize, l.MlpNorm.Pointer, eps, programmatic: pdl,
                            batch: batch, glu: _gateHoldsH);
                    break;
                }
            case StepKind.Down:
                // _gate holds h = silu(gate) * up with the SwiGLU epilogue, else gate (SwiGLU fused into the down projection's input)
                _ops.Matvec(_stream, [new(op(_w.Layers[s.Layer].Down), _x.Pointer)], _gate.Pointer, c.IntermediateSize, resid: _x.Pointer,
                    up: _gateHoldsH ? 0 : _up.Pointer, programmatic: pdl, batch: batch);
                break;
            case StepKind.Head:
                HeadCompute(s, op, _x.Pointer, programmatic: pdl, batch: batch);
                break;
        }
    }

    /// <summary>
    /// The SwiGLU epilogue, for gate and up of one encoding (a launch mixing raw and `fixed` matrices has none). It makes
    /// the decode-bound `fixed` matvec faster (TinyLlama 944 -> 987-1000 tok/s, Llama-2-7B 203 -> 211, H100 session 9)
    /// and, since the persistent raw kernel of the gate/up pairs fits as many blocks as the plain one
    /// (FM_RAWP_CAP_ACTS), the raw one too: its down projection no longer computes silu per tile (session 12). Both
    /// orders give the same bits. Batch 1 only: the batched `fixed` kernels with the epilogue need 128-244 registers (not
    /// measured).
    /// </summary>
    private bool GluFor(MatvecWeight gate, MatvecWeight up) =>
        _gluEpilogue && gate.Encoding == up.Encoding && (gate.Encoding == WeightEncoding.Fixed || (gate.Encoding == WeightEncoding.BF16 && !GluRawOff));

    /// <summary>One unit of a sliced decode step: its row slices into the same outputs (and, for o and down, residual rows) as the whole step.</summary>
    private void SlicedCompute(Step s, Func<GpuMatrix, MatvecWeight> op, int batch, bool pdl)
    {
        ModelConfig c = _cfg;
        GpuLayer l = _w.Layers[s.Layer];
        (ulong x, int cols, ulong norm, ulong up, bool resid) = s.Kind switch
        {
            StepKind.Qkv => (_x.Pointer, c.HiddenSize, l.AttnNorm.Pointer, 0UL, false),
            StepKind.GateUp => (_x.Pointer, c.HiddenSize, l.MlpNorm.Pointer, 0UL, false),
            StepKind.O => (_att.Pointer, c.QDim, 0UL, 0UL, true),
            _ => (_gate.Pointer, c.IntermediateSize, 0UL, _up.Pointer, true),
        };
        (ulong Out, ulong Bias) Output(GpuMatrix m) =>
            ReferenceEquals(m, l.Q) ? (_q.Pointer, Ptr(l.QBias)) : ReferenceEquals(m, l.K) ? (_k.Pointer, Ptr(l.KBias)) : ReferenceEquals(m, l.V) ? (_v.Pointer, Ptr(l.VBias))
            : ReferenceEquals(m, l.Gate) ? (_gate.Pointer, 0UL) : ReferenceEquals(m, l.Up) ? (_up.Pointer, 0UL) : (_x.Pointer, 0UL);
        var targets = new MatvecTarget[s.Pieces!.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            Piece p = s.Pieces[i];
            MatvecWeight w = op(p.Matrix);
            w = p.Matrix.IsCompressed ? w with { Rows = p.Rows, FullRows = p.Matrix.Rows } : w.SliceRows(p.Row0, p.Rows);
            (ulong o, ulong bias) = Output(p.Matrix);
            ulong row = (ulong)p.Row0 * 4;
            targets[i] = new MatvecTarget(w, o + row, bias == 0 ? 0 : bias + row);
        }
        ulong Resid(int i) => resid ? targets[i].Out : 0;
        if (batch == 1)
        {
            _ops.Matvec(_stream, targets, x, cols, norm, c.RmsNormEps, Resid(0), up, programmatic: pdl, orderGroups: s.OrderGroups);
        }
        else
        {
            // Batch rows are [batch][the whole matrix's rows]: one launch per slice, each with its matrix's row stride.
            for (int i = 0; i < targets.Length; i++)
                _ops.Matvec(_stream, targets.AsSpan(i, 1), x, cols, norm, c.RmsNormEps, Resid(i), up, programmatic: pdl, batch: batch, ldOut: s.Pieces[i].Matrix.Rows,
                    orderGroups: s.OrderGroups);
        }
        if (s.Kind == StepKind.Qkv && s.Last) Attend(s.Layer, batch, programmatic: pdl, batched: batch > 1);
    }

    private void HeadCompute(Step s, Func<GpuMatrix, MatvecWeight> op, ulong x, bool programmatic = false, int batch = 1)
    {
        MatvecWeight w = op(_w.Head);
        if (s.Row0 != 0 || s.Rows != _w.Head.Rows)
        {
            // A sliced head: the scratch holds exactly these rows; a raw head is offset.
            w = s.Scratch != null ? w with { Rows = s.Rows, FullRows = _w.Head.Rows } : w.SliceRows(s.Row0, s.Rows);
        }
        _ops.Matvec(_stream, [new(w, _logits.Pointer + (ulong)s.Row0 * 4)], x, _cfg.HiddenSize, _w.FinalNorm.Pointer, _cfg.RmsNormEps,
            programmatic: programmatic && CudaOps.UseStepProgrammaticLaunch, batch: batch, ldOut: batch > 1 ? _cfg.VocabSize : 0);
    }

    private static ulong Ptr(DeviceBuffer? b) => b?.Pointer ?? 0;

    /// <summary>
    /// Attention of n tokens of sequence <see cref="_seq"/> at positions pos[0].., or (<paramref name="batched"/>) of one
    /// token of each of sequences 0..n-1, sequence b at position pos[b]. <paramref name="halves"/>: prefill's q, k, v still in
    /// [hi | lo] halves (bits 0, 1, 2; <see cref="AttnParams.Halves"/>), summed by RoPE.
    /// </summary>
    private void Attend(int layer, int n, bool programmatic = false, bool batched = false, int halves = 0)
    {
        ModelConfig c = _cfg;
        long kvLayer = (long)MaxSequenceLength * c.KvDim * CudaOps.KvElementBytes(_kvType);
        ulong seqBase = (ulong)(_seq * _seqKvBytes);
        ulong kc = _kCache.Pointer + seqBase + (ulong)(kvLayer * layer), vc = _vCache.Pointer + seqBase + (ulong)(kvLayer * layer);
        var attn = new AttnParams
        {
            Q = _q.Pointer,
            KCache = kc,
            VCache = vc,
            Out = _att.Pointer,
            Pos0 = _pos.Pointer,
            T = n,
            NHeads = c.NumHeads,
            NKvHeads = c.NumKvHeads,
            HeadDim = c.HeadDim,
            Scale = 1f / MathF.Sqrt(c.HeadDim),
            KNew = _k.Pointer,
            VNew = _v.Pointer,
            InvFreq = _invFreq.Pointer,
            Style = c.RopeStyle == RopeStyle.Interleaved ? 0 : 1,
            Window = c.AttentionWindow(layer),
        };
        if (n == 1 || batched)
        {
            if (halves != 0) throw new InvalidOperationException("decode attention reads q, k and v summed");
            // Decode: RoPE and the cache append happen inside the attention kernel.
            attn.FuseRope = 1;
            attn.SeqBytes = batched ? _seqKvBytes : 0;
            attn.StageRows = _attnStageRows;
            if (_attnSplitCount != null)
            {
                attn.SplitWs = _attnSplitWs!.Pointer;
                attn.SplitCount = _attnSplitCount.Pointer;
                attn.SplitLen = _attnSplitLen;
                attn.SplitMax = _attnSplitMax;
            }
            _ops.Attention(_stream, _kvType, attn, MaxSequenceLength, programmatic);
            return;
        }
        _ops.RopeKv(_stream, _kvType, attn with { Halves = halves });
        _ops.Attention(_stream, _kvType, attn, MaxSequenceLength);
    }

    private void PrefillChunk(int n, bool computeLogits)
    {
        ModelConfig c = _cfg;
        float eps = c.RmsNormEps;
        Embed(n);
        List<Step> steps = computeLogits ? _prefillSteps : _prefillSteps.Where(s => s.Kind != StepKind.Head).ToList();
        RunSteps(steps, (s, op) =>
        {
            GpuLayer l = s.Kind == StepKind.Head ? null! : _w.Layers[s.Layer];
            switch (s.Kind)
            {
                case StepKind.AttnIn:
                    NormedGemmInput(l.AttnNorm, n);
                    break;
                case StepKind.Gemm:
                    {
                        ulong xin = (_wType == 0 ? s.Source switch { GemmSource.Normed => _tmp, GemmSource.Attention => _att, _ => _h! }
                            : s.Source switch { GemmSource.Normed => _xn, GemmSource.Attention => _attc, _ => _hc }).Pointer;
                        GpuMatrix m = s.Matrix!;
                        MatvecWeight w = op(m);
                        if (s.Scratch == null) w = w.SliceRows(s.Row0, s.Rows);
                        else if (m.Codec == "entropy") // decoded from a group boundary: skip to the slice's first row
                            w = w with { W = w.W + (ulong)(((long)s.Row0 * m.Cols - s.Scratch[0].Rg0 * GpuDecoders.EntropyGroupElements(m)) * m.DType.ByteSize()), Rows = s.Rows };
                        else w = w with { Rows = s.Rows };
                        Gemm(w, xin, s.Out + (ulong)s.Row0 * 4, n, m.Rows);
                        break;
                    }
                case StepKind.AttnOut:
                    {
                        // q, k, v in [hi | lo] halves (bits 0, 1, 2) until the bias or RoPE sums them
                        int halves = _foldHalves ? 7 : 0;
                        foreach ((DeviceBuffer? bias, DeviceBuffer x, int dim, int bit) in new[] { (l.QBias, _q, c.QDim, 1), (l.KBias, _k, c.KvDim, 2), (l.VBias, _v, c.KvDim, 4) })
                        {
                            if (bias == null) continue;
                            _ops.AddBiasRows(_stream, x.Pointer, bias.Pointer, dim, (long)n * dim, _foldHalves);
                            halves &= ~bit;
                        }
                        Attend(s.Layer, n, halves: halves);
                        break;
                    }
                case StepKind.OIn:
                    GemmInput(_att, _attc, (long)n * c.QDim);
                    break;
                case StepKind.ResidAdd:
                    _ops.AddInPlace(_stream, _x.Pointer, _tmp.Pointer, (long)n * c.HiddenSize, _foldHalves);
                    break;
                case StepKind.MlpIn:
                    NormedGemmInput(l.MlpNorm, n);
                    break;
                case StepKind.MlpMid:
                    if (_wType == 0) _ops.Swiglu(_stream, _gate.Pointer, _up.Pointer, _h!.Pointer, (long)n * c.IntermediateSize);
                    else _ops.SwigluSplit(_stream, _gate.Pointer, _up.Pointer, _hc.Pointer, _wType, (long)n * c.IntermediateSize, _foldHalves);
                    break;
                case StepKind.Head:
                    HeadCompute(s, op, Row(_x, n - 1, c.HiddenSize));
                    break;
            }
        });
    }

    /// <summary>
    /// RMSNorm of the chunk's n rows of x with <paramref name="weight"/>: f32 into _tmp (f32 weights), or the hi and lo halves
    /// into _xn (f16/bf16 weights; one kernel, the same bits as the norm then <see cref="GemmInput"/>).
    /// </summary>
    private void NormedGemmInput(DeviceBuffer weight, int n)
    {
        if (_wType == 0) _ops.RmsNorm(_stream, _x.Pointer, weight.Pointer, _tmp.Pointer, 0, _cfg.HiddenSize, n, _cfg.RmsNormEps);
        else _ops.RmsNormSplit(_stream, _x.Pointer, weight.Pointer, _xn.Pointer, _wType, _cfg.HiddenSize, n, _cfg.RmsNormEps);
    }

    /// <summary>
    /// The GEMM's B operand: the f32 activations themselves, or (f16/bf16 weights) hi + lo halves in the
    /// weights' type, so the activations keep ~16 mantissa bits through the tensor-core GEMM.
    /// </summary>
    private void GemmInput(DeviceBuffer f32, DeviceBuffer converted, long count)
    {
        if (_wType != 0) _ops.Split(_stream, f32.Pointer, converted.Pointer, _wType, count);
    }

    /// <summary>
    /// Y[n, rows] (f32) = X[n, cols] · Wᵀ with W row-major [rows, cols]. For f16/bf16 weights X is the hi half and the lo
    /// half follows it (n * cols elements on, as GemmInput writes them): Y = W·hi + W·lo, or (<see cref="_foldHalves"/>)
    /// rows [0, n) of Y = W·hi and rows [n, 2n) = W·lo, for the consumer to sum.
    /// </summary>
    private void Gemm(MatvecWeight w, ulong x, ulong y, int n, int ldc)
    {
        if (w.Encoding == WeightEncoding.F32)
        {
            Gemm(w, x, y, n, beta: 0, ldc);
            return;
        }
        if (_foldHalves)
        {
            // hi and lo are one [2n, cols] operand: one GEMM over both (the weights read once, twice the columns a tile)
            Gemm(w, x, y, 2 * n, beta: 0, ldc);
            return;
        }
        Gemm(w, x, y, n, beta: 0, ldc);
        Gemm(w, x + (ulong)((long)n * w.Cols * w.ElementBytes), y, n, beta: 1, ldc);
    }

    /// <summary>Y rows [0, w.Rows) of a [n, ldc] output at <paramref name="y"/>.</summary>
    private void Gemm(MatvecWeight w, ulong x, ulong y, int n, float beta, int ldc)
    {
        if (w.Encoding == WeightEncoding.Fixed) throw new InvalidOperationException("GEMM operands must be decoded");
        int type = w.Encoding switch { WeightEncoding.F32 => Cublas.CUDA_R_32F, WeightEncoding.F16 => Cublas.CUDA_R_16F, _ => Cublas.CUDA_R_16BF };
        float alpha = 1;
        Cublas.Check(Cublas.cublasGemmEx(_cublas.DangerousGetHandle(), Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_N, w.Rows, n, w.Cols, &alpha,
            w.W, type, w.Cols, x, type, w.Cols, &beta, y, Cublas.CUDA_R_32F, ldc, Cublas.CUBLAS_COMPUTE_32F, Cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
    }

    public void Dispose()
    {
        _ctx.MakeCurrent();
        try
        {
            _stream.Synchronize();
        }
        catch (CudaException)
        {
            // Freeing proceeds even after a failed launch.
        }
        _graph?.Dispose();
        foreach (CudaGraphExecHandle g in _batchGraphs.Values) g.Dispose();
        _batchGraphs.Clear();
        _pinnedBatch?.Dispose();
        _pipeline?.Dispose();
        _cublas.Dispose();
        foreach (DeviceBuffer b in _buffers) b.Dispose();
        _buffers.Clear();
        _pinnedIn.Dispose();
        _pinnedLogits.Dispose();
        _lease.Dispose();
        _stream.Dispose();
    }
}
