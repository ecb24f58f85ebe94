using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>Options of the CUDA backend beyond <see cref="SessionOptions"/>.</summary>
public sealed record CudaBackendOptions
{
    public int DeviceOrdinal { get; init; }

    /// <summary>
    /// Tensor groups (attn, mlp, head; see <see cref="TensorNames.GroupOf"/>) whose fixed/entropy blobs stay
    /// compressed in VRAM; null = every group. Other compressed tensors are decoded once at load.
    /// </summary>
    public IReadOnlySet<string>? CompressedGroups { get; init; }

    /// <summary>Decode steps multiply `fixed` tiles in registers (fused) instead of decoding to scratch first.</summary>
    public bool FusedFixed { get; init; } = true;

    /// <summary>Capture the decode step in a CUDA graph.</summary>
    public bool UseGraphs { get; init; } = true;

    /// <summary>Tokens per prefill chunk (GEMM batch).</summary>
    public int PrefillChunk { get; init; } = 256;

    /// <summary>
    /// Prefill GEMMs run over equal row slices of at most this many decoded bytes (every matrix, raw ones too, so
    /// that compressed and uncompressed weights get the same cuBLAS calls); compressed slices are decoded into
    /// scratch slots of about this size (<see cref="PrefillScratchSlots"/>). 0 (default): half the largest layer matrix, at
    /// least 1 MiB.
    /// </summary>
    public long PrefillSliceBytes { get; init; }

    /// <summary>
    /// Decode steps that decode to scratch (`fixed` without <see cref="FusedFixed"/>) may run in row slices of at most this many
    /// decoded bytes, each decoded while the previous one is multiplied: the scratch shrinks to two or three slices (peak
    /// VRAM as low as the fused path's) at some speed (TinyLlama on an H100: 16 MiB slices 0.49x uncompressed, whole steps with
    /// three slots 0.54x; docs/PERFORMANCE.md). 0 (default): one unit per step (q/k/v, o, gate/up, down). The sums are the same
    /// either way. CODECLLM_DECODE_SLICE_MB overrides (tuning).
    /// </summary>
    public long DecodeSliceBytes { get; init; }

    /// <summary>
    /// Scratch slots of a pipeline that decodes decode-step weights (at least 2; a prefill-only pipeline has 2): with 3 the
    /// decode runs two steps ahead. CODECLLM_SCRATCH_SLOTS overrides (tuning).
    /// </summary>
    public int ScratchSlots { get; init; } = 3;

    /// <summary>
    /// Scratch slots of a pipeline that only prefill uses (decode steps fused or uncompressed): 1 (default) decodes each
    /// prefill slice after the previous slice's GEMM, 2 decodes it during that GEMM for one more slice of memory (TinyLlama
    /// `fixed`: 11.5 MiB, peak 0.715x instead of 0.720x of uncompressed). CODECLLM_PREFILL_SLOTS overrides (tuning).
    /// </summary>
    public int PrefillScratchSlots { get; init; } = 1;

    /// <summary>Where the start-up line goes (null: nowhere).</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>The GPU backend: NVRTC-compiled kernels, cuBLAS prefill, weights compressed in VRAM.</summary>
public sealed class CudaBackend : IInferenceBackend, IDisposable
{
    private readonly CudaBackendOptions _options;
    private readonly SharedWeights<CudaWeights> _weights = new();
    private CudaContext? _context;

    public CudaBackend(CudaBackendOptions? options = null) => _options = options ?? new CudaBackendOptions();

    public string Name => "cuda";

    /// <summary>The device context (opened on first use; throws with what to install when CUDA is missing).</summary>
    public CudaContext Context
    {
        get
        {
            if (_context == null)
            {
                _context = CudaContext.Open(_options.DeviceOrdinal);
                _options.Log?.WriteLine(_context.Describe());
                if (CudaSession.ProbeSkip.Count > 0)
                    _options.Log?.WriteLine($"probe: CODECLLM_PROBE_SKIP={string.Join(',', CudaSession.ProbeSkip)}: decode steps leave those roles out (timing only; the logits are not the model's)");
            }
            return _context;
        }
    }

    public IInferenceSession CreateSession(LoadedModel model, SessionOptions options) => CreateCudaSession(model, options);

    /// <summary>A session; live sessions of one model share one copy of its weights in VRAM (each has its own KV cache).</summary>
    public CudaSession CreateCudaSession(LoadedModel model, SessionOptions options) => new(Context, model, options, _options, _weights);

    /// <summary>Sessions of this backend that hold <paramref name="model"/>'s weights.</summary>
    public int WeightUsers(LoadedModel model) => _weights.Users(model);

    public void Dispose() => _context?.Dispose();
}
