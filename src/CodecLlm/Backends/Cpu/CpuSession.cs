using System.Numerics.Tensors;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// The reference forward pass of a Llama-family decoder on the CPU, in float32, one token at a time (the
/// structure of llama2.c's run.c forward()): embed, then per layer RMSNorm → q/k/v (+bias) → RoPE → cache
/// k/v → grouped-query attention → o + residual → RMSNorm → SwiGLU MLP + residual; final RMSNorm → logits.
/// </summary>
public sealed class CpuSession : IInferenceSession
{
    private readonly CpuWeights _weights;
    private readonly KvCache _cache;
    private readonly RotaryEmbedding _rope;
    private readonly int _threads;

    // Activations of the current token (as llama2.c's RunState).
    private readonly float[] _x, _xb, _xb2, _q, _hb, _hb2, _att, _cos, _sin;

    public CpuSession(LoadedModel model, SessionOptions options)
    {
        Config = model.Config;
        ModelConfig c = Config;
        MaxSequenceLength = Math.Min(options.MaxSequenceLength ?? c.MaxSequenceLength, c.MaxSequenceLength);
        if (MaxSequenceLength <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"MaxSequenceLength must be positive, not {MaxSequenceLength}");
        _threads = Math.Max(1, options.Threads ?? Environment.ProcessorCount);
        _rope = new RotaryEmbedding(c.HeadDim, c.RopeTheta, c.RopeStyle, c.RopeScaling);
        _weights = new CpuWeights(model);
        _cache = new KvCache(c.NumLayers, MaxSequenceLength, c.KvDim);
        int width = Math.Max(c.HiddenSize, c.QDim);
        _x = new float[c.HiddenSize];
        _xb = new float[width];
        _xb2 = new float[width];
        _q = new float[c.QDim];
        _hb = new float[c.IntermediateSize];
        _hb2 = new float[c.IntermediateSize];
        _att = new float[(long)c.NumHeads * MaxSequenceLength];
        _cos = new float[c.HeadDim / 2];
        _sin = new float[c.HeadDim / 2];
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
        for (int i = 0; i < tokens.Length; i++) Step(tokens[i], startPos + i);
        Logits(logits);
    }

    private unsafe void Step(int token, int pos)
    {
        ModelConfig c = Config;
        if ((uint)token >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), $"token id {token} outside the vocabulary of {c.VocabSize}");
        Span<float> x = _x, xb = _xb.AsSpan(0, c.HiddenSize), attnOut = _xb.AsSpan(0, c.QDim), xb2 = _xb2.AsSpan(0, c.HiddenSize);
        _weights.Embedding.ReadRow(token, x);
        _rope.Angles(pos, _cos, _sin);

        for (int l = 0; l < c.NumLayers; l++)
        {
            CpuLayerWeights w = _weights.Layers[l];

            // Attention: q, and this position's k and v straight into the cache.
            RmsNorm.Apply(x, w.AttnNorm, c.RmsNormEps, xb);
            Span<float> k = _cache.Key(l, pos), v = _cache.Value(l, pos);
            MatVec.Multiply(w.Q, xb, _q, _threads);
            MatVec.Multiply(w.K, xb, k, _threads);
            MatVec.Multiply(w.V, xb, v, _threads);
            if (w.QBias != null) TensorPrimitives.Add(_q, w.QBias, _q);
            if (w.KBias != null) TensorPrimitives.Add(k, w.KBias, k);
            if (w.VBias != null) TensorPrimitives.Add(v, w.VBias, v);
            _rope.Apply(_q, c.NumHeads, _cos, _sin);
            _rope.Apply(k, c.NumKvHeads, _cos, _sin);
            Attention.Compute(_q, _cache.KeyPointer(l, 0), _cache.ValuePointer(l, 0), c.KvDim, pos, c.NumHeads, c.NumKvHeads, c.HeadDim,
                attnOut, _att, _threads);
            MatVec.Multiply(w.O, attnOut, xb2, _threads);
            TensorPrimitives.Add(x, xb2, x);

            // Feed-forward: down(silu(gate(x)) * up(x)).
            RmsNorm.Apply(x, w.MlpNorm, c.RmsNormEps, xb);
            MatVec.Multiply(w.Gate, xb, _hb, _threads);
            MatVec.Multiply(w.Up, xb, _hb2, _threads);
            SwiGlu.Apply(_hb, _hb2);
            MatVec.Multiply(w.Down, _hb, xb2, _threads);
            TensorPrimitives.Add(x, xb2, x);
        }
    }

    private void Logits(Span<float> logits)
    {
        Span<float> xb = _xb.AsSpan(0, Config.HiddenSize);
        RmsNorm.Apply(_x, _weights.FinalNorm, Config.RmsNormEps, xb);
        MatVec.Multiply(_weights.Head, xb, logits[..Config.VocabSize], _threads);
    }

    public void Dispose()
    {
        _cache.Dispose();
        _weights.Dispose();
    }
}
