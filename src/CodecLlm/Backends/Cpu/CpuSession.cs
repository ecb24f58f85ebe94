using System.Numerics.Tensors;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// The reference forward pass of a Llama-family decoder on the CPU, in float32 (the structure of llama2.c's
/// run.c forward()): embed, then per layer RMSNorm → q/k/v (+bias) → RoPE → cache k/v → grouped-query
/// attention → o + residual → RMSNorm → SwiGLU MLP + residual; final RMSNorm → logits of the last token.
/// A prompt is processed in chunks of up to <see cref="MaxBatch"/> tokens so each weight is read once per
/// chunk; every per-token computation is the same as for a single token, so chunking never changes results.
/// The KV cache is float32 whatever <see cref="SessionOptions.KvCacheType"/> says (that option is for CUDA).
/// </summary>
public sealed class CpuSession : IInferenceSession
{
    /// <summary>Most tokens processed together by one pass over the weights.</summary>
    public const int MaxBatch = 32;

    private readonly SharedWeights<CpuWeights>.Lease _lease;
    private readonly CpuWeights _weights;
    private readonly KvCache _cache;
    private readonly RotaryEmbedding _rope;
    private readonly int _threads;

    // Activations of the current chunk, token after token (as llama2.c's RunState, times MaxBatch).
    private readonly float[] _x, _xb, _xb2, _q, _attnOut, _hb, _hb2, _att, _cos, _sin;

    /// <summary>A session with weights of its own.</summary>
    public CpuSession(LoadedModel model, SessionOptions options)
        : this(model, options, null)
    {
    }

    /// <summary>A session whose weights come from (and go back to) <paramref name="shared"/>, when given.</summary>
    internal CpuSession(LoadedModel model, SessionOptions options, SharedWeights<CpuWeights>? shared)
    {
        Config = model.Config;
        ModelConfig c = Config;
        MaxSequenceLength = Math.Min(options.MaxSequenceLength ?? c.MaxSequenceLength, c.MaxSequenceLength);
        if (MaxSequenceLength <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"MaxSequenceLength must be positive, not {MaxSequenceLength}");
        _threads = Math.Max(1, options.Threads ?? Environment.ProcessorCount);
        _rope = new RotaryEmbedding(c.HeadDim, c.RopeTheta, c.RopeStyle, c.RopeScaling);
        _lease = shared?.Acquire(model, () => new CpuWeights(model)) ?? SharedWeights<CpuWeights>.Private(new CpuWeights(model));
        try
        {
            _weights = _lease.Weights;
            _cache = new KvCache(c.NumLayers, MaxSequenceLength, c.KvDim);
            _x = new float[MaxBatch * c.HiddenSize];
            _xb = new float[MaxBatch * c.HiddenSize];
            _xb2 = new float[MaxBatch * c.HiddenSize];
            _q = new float[MaxBatch * c.QDim];
            _attnOut = new float[MaxBatch * c.QDim];
            _hb = new float[MaxBatch * c.IntermediateSize];
            _hb2 = new float[MaxBatch * c.IntermediateSize];
            _att = new float[(long)c.NumHeads * MaxSequenceLength];
            _cos = new float[MaxBatch * c.HeadDim / 2];
            _sin = new float[MaxBatch * c.HeadDim / 2];
        }
        catch
        {
            _lease.Dispose();
            throw;
        }
    }

    public ModelConfig Config { get; }

    public string BackendName => "cpu";

    public int MaxSequenceLength { get; }

    /// <summary>Weight bytes the forward pass reads per token (for bandwidth figures).</summary>
    public long WeightBytesPerToken => _weights.MatrixBytesPerToken;

    /// <summary>Native bytes this session holds: KV cache and decoded (formerly compressed) weights.</summary>
    public long NativeBytes => _cache.ByteLength + _weights.DecodedBytes;

    public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (startPos < 0 || startPos + tokens.Length > MaxSequenceLength)
            throw new ArgumentOutOfRangeException(nameof(startPos), $"positions {startPos}..{startPos + tokens.Length - 1} outside the context of {MaxSequenceLength}");
        if (logits.Length < Config.VocabSize)
            throw new ArgumentException($"logits span holds {logits.Length} values, the vocabulary has {Config.VocabSize}", nameof(logits));
        foreach (int token in tokens)
            if ((uint)token >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {token} outside the vocabulary of {Config.VocabSize}");

        int done = 0;
        while (done < tokens.Length)
        {
            int n = Math.Min(MaxBatch, tokens.Length - done);
            Chunk(tokens.Slice(done, n), startPos + done);
            done += n;
        }
        int last = (tokens.Length - 1) % MaxBatch;
        Logits(_x.AsSpan(last * Config.HiddenSize, Config.HiddenSize), logits);
    }

    private unsafe void Chunk(ReadOnlySpan<int> tokens, int startPos)
    {
        ModelConfig c = Config;
        int n = tokens.Length, dim = c.HiddenSize, qDim = c.QDim, kvDim = c.KvDim, half = c.HeadDim / 2;
        for (int t = 0; t < n; t++)
        {
            _weights.Embedding.ReadRow(tokens[t], _x.AsSpan(t * dim, dim));
            _rope.Angles(startPos + t, _cos.AsSpan(t * half, half), _sin.AsSpan(t * half, half));
        }

        for (int l = 0; l < c.NumLayers; l++)
        {
            CpuLayerWeights w = _weights.Layers[l];

            // Attention: q for every token, and their k and v straight into the cache (positions are contiguous).
            for (int t = 0; t < n; t++) RmsNorm.Apply(_x.AsSpan(t * dim, dim), w.AttnNorm, c.RmsNormEps, _xb.AsSpan(t * dim, dim));
            Span<float> keys = new(_cache.KeyPointer(l, startPos), n * kvDim), values = new(_cache.ValuePointer(l, startPos), n * kvDim);
            MatVec.Multiply(w.Q, _xb, _q, n, _threads);
            MatVec.Multiply(w.K, _xb, keys, n, _threads);
            MatVec.Multiply(w.V, _xb, values, n, _threads);
            for (int t = 0; t < n; t++)
            {
                Span<float> q = _q.AsSpan(t * qDim, qDim), k = keys.Slice(t * kvDim, kvDim), v = values.Slice(t * kvDim, kvDim);
                if (w.QBias != null) TensorPrimitives.Add(q, w.QBias, q);
                if (w.KBias != null) TensorPrimitives.Add(k, w.KBias, k);
                if (w.VBias != null) TensorPrimitives.Add(v, w.VBias, v);
                ReadOnlySpan<float> cos = _cos.AsSpan(t * half, half), sin = _sin.AsSpan(t * half, half);
                _rope.Apply(q, c.NumHeads, cos, sin);
                _rope.Apply(k, c.NumKvHeads, cos, sin);
            }
            for (int t = 0; t < n; t++)
            {
                Attention.Compute(_q.AsSpan(t * qDim, qDim), _cache.KeyPointer(l, 0), _cache.ValuePointer(l, 0), kvDim, startPos + t,
                    c.NumHeads, c.NumKvHeads, c.HeadDim, _attnOut.AsSpan(t * qDim, qDim), _att, _threads);
            }
            MatVec.Multiply(w.O, _attnOut, _xb2, n, _threads);
            TensorPrimitives.Add(_x.AsSpan(0, n * dim), _xb2.AsSpan(0, n * dim), _x.AsSpan(0, n * dim));

            // Feed-forward: down(silu(gate(x)) * up(x)).
            for (int t = 0; t < n; t++) RmsNorm.Apply(_x.AsSpan(t * dim, dim), w.MlpNorm, c.RmsNormEps, _xb.AsSpan(t * dim, dim));
            int ff = c.IntermediateSize;
            MatVec.Multiply(w.Gate, _xb, _hb, n, _threads);
            MatVec.Multiply(w.Up, _xb, _hb2, n, _threads);
            SwiGlu.Apply(_hb.AsSpan(0, n * ff), _hb2.AsSpan(0, n * ff));
            MatVec.Multiply(w.Down, _hb, _xb2, n, _threads);
            TensorPrimitives.Add(_x.AsSpan(0, n * dim), _xb2.AsSpan(0, n * dim), _x.AsSpan(0, n * dim));
        }
    }

    private void Logits(ReadOnlySpan<float> x, Span<float> logits)
    {
        Span<float> xb = _xb.AsSpan(0, Config.HiddenSize);
        RmsNorm.Apply(x, _weights.FinalNorm, Config.RmsNormEps, xb);
        MatVec.Multiply(_weights.Head, xb, logits[..Config.VocabSize], _threads);
    }

    public void Dispose()
    {
        _cache.Dispose();
        _lease.Dispose();
    }
}
