using System.Numerics.Tensors;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// The reference forward pass of a Llama-family decoder on the CPU, in float32 (the structure of llama2.c's
/// run.c forward()): embed, then per layer RMSNorm → q/k/v (+bias) → RoPE → cache k/v → grouped-query
/// attention → o + residual → RMSNorm → SwiGLU MLP + residual; final RMSNorm → logits of the last token.
/// A prompt is processed in chunks of up to <see cref="ChunkTokens"/> tokens so each weight is read once per
/// chunk; every per-token computation is the same as for a single token, so chunking never changes results.
/// The session holds <see cref="MaxBatch"/> sequences (each its own KV cache); a batched step runs one token of each
/// as one chunk, so every sequence's logits equal a single-sequence session's, bit for bit.
/// The KV cache is float32 whatever <see cref="SessionOptions.KvCacheType"/> says (that option is for CUDA).
/// </summary>
public sealed class CpuSession : ISubsetBatchedInferenceSession
{
    /// <summary>Most tokens processed together by one pass over the weights.</summary>
    public const int ChunkTokens = 32;

    private readonly SharedWeights<CpuWeights>.Lease _lease;
    private readonly CpuWeights _weights;
    private readonly KvCache[] _caches;
    private readonly RotaryEmbedding _rope;
    private readonly int _threads;

    // Activations of the current chunk, token after token (as llama2.c's RunState, times ChunkTokens).
    private readonly float[] _x, _xb, _xb2, _q, _k, _v, _attnOut, _hb, _hb2, _att, _cos, _sin;
    private float[]? _rowLogits;  // one sequence's logits when a batched step's caller wants only the tokens

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
        BatchArguments.CheckMaxBatch(options.MaxBatch);
        MaxBatch = options.MaxBatch;
        _rope = new RotaryEmbedding(c.HeadDim, c.RopeTheta, c.RopeStyle, c.RopeScaling);
        _lease = shared?.Acquire(model, () => new CpuWeights(model)) ?? SharedWeights<CpuWeights>.Private(new CpuWeights(model));
        try
        {
            _weights = _lease.Weights;
            _caches = new KvCache[MaxBatch];
            for (int i = 0; i < MaxBatch; i++) _caches[i] = new KvCache(c.NumLayers, MaxSequenceLength, c.KvDim);
            _x = new float[ChunkTokens * c.HiddenSize];
            _xb = new float[ChunkTokens * c.HiddenSize];
            _xb2 = new float[ChunkTokens * c.HiddenSize];
            _q = new float[ChunkTokens * c.QDim];
            _k = new float[ChunkTokens * c.KvDim];
            _v = new float[ChunkTokens * c.KvDim];
            _attnOut = new float[ChunkTokens * c.QDim];
            _hb = new float[ChunkTokens * c.IntermediateSize];
            _hb2 = new float[ChunkTokens * c.IntermediateSize];
            _att = new float[(long)c.NumHeads * MaxSequenceLength];
            _cos = new float[ChunkTokens * c.HeadDim / 2];
            _sin = new float[ChunkTokens * c.HeadDim / 2];
        }
        catch
        {
            foreach (KvCache? kv in _caches ?? []) kv?.Dispose();
            _lease.Dispose();
            throw;
        }
    }

    public ModelConfig Config { get; }

    public string BackendName => "cpu";

    public int MaxSequenceLength { get; }

    /// <summary>Sequences this session holds (<see cref="SessionOptions.MaxBatch"/>), each with its own KV cache.</summary>
    public int MaxBatch { get; }

    /// <summary>Weight bytes the forward pass reads per token (for bandwidth figures).</summary>
    public long WeightBytesPerToken => _weights.MatrixBytesPerToken;

    /// <summary>Native bytes this session holds: KV cache and decoded (formerly compressed) weights.</summary>
    public long NativeBytes => _caches.Sum(kv => kv.ByteLength) + _weights.DecodedBytes;

    public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits) => Prefill(0, tokens, startPos, logits);

    public void Prefill(int seq, ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
    {
        if ((uint)seq >= (uint)MaxBatch) throw new ArgumentOutOfRangeException(nameof(seq), $"sequence {seq} outside 0..{MaxBatch - 1} (MaxBatch {MaxBatch})");
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to run", nameof(tokens));
        if (startPos < 0 || startPos + tokens.Length > MaxSequenceLength)
            throw new ArgumentOutOfRangeException(nameof(startPos), $"positions {startPos}..{startPos + tokens.Length - 1} outside the context of {MaxSequenceLength}");
        if (logits.Length < Config.VocabSize)
            throw new ArgumentException($"logits span holds {logits.Length} values, the vocabulary has {Config.VocabSize}", nameof(logits));
        foreach (int token in tokens)
            if ((uint)token >= (uint)Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {token} outside the vocabulary of {Config.VocabSize}");

        Span<int> seqs = stackalloc int[ChunkTokens], positions = stackalloc int[ChunkTokens];
        seqs.Fill(seq);
        int done = 0;
        while (done < tokens.Length)
        {
            int n = Math.Min(ChunkTokens, tokens.Length - done);
            for (int t = 0; t < n; t++) positions[t] = startPos + done + t;
            Chunk(tokens.Slice(done, n), seqs[..n], positions[..n]);
            done += n;
        }
        int last = (tokens.Length - 1) % ChunkTokens;
        Logits(_x.AsSpan(last * Config.HiddenSize, Config.HiddenSize), logits);
    }

    public void ForwardGreedyBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits)
    {
        Span<int> seqs = stackalloc int[Math.Clamp(tokens.Length, 0, BatchArguments.MaxBatch)];
        for (int i = 0; i < seqs.Length; i++) seqs[i] = i;
        ForwardGreedyBatch(seqs, tokens, positions, next, logits);
    }

    public void ForwardGreedyBatch(ReadOnlySpan<int> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits)
    {
        int vocab = Config.VocabSize;
        BatchArguments.Check(tokens, positions, next.Length, logits.Length, MaxBatch, vocab, MaxSequenceLength);
        int b = tokens.Length;
        if (sequences.Length != b) throw new ArgumentOutOfRangeException(nameof(sequences), $"{sequences.Length} sequences for {b} tokens");
        for (int i = 0; i < b; i++)
        {
            if ((uint)sequences[i] >= (uint)MaxBatch) throw new ArgumentOutOfRangeException(nameof(sequences), $"sequence {sequences[i]} outside 0..{MaxBatch - 1}");
            if (sequences[..i].Contains(sequences[i])) throw new ArgumentOutOfRangeException(nameof(sequences), $"sequence {sequences[i]} twice in one step");
        }
        Chunk(tokens, sequences, positions);
        for (int i = 0; i < b; i++)
        {
            Span<float> l = logits.IsEmpty ? _rowLogits ??= new float[vocab] : logits.Slice(i * vocab, vocab);
            Logits(_x.AsSpan(i * Config.HiddenSize, Config.HiddenSize), l);
            next[i] = Sampler.Argmax(l);
        }
    }

    /// <summary>
    /// Token t of the chunk belongs to sequence seqs[t] at positions[t]. Every token's k and v enter its sequence's cache
    /// before any token attends, so a prompt chunk (one sequence, consecutive positions) attends causally within itself.
    /// </summary>
    private unsafe void Chunk(ReadOnlySpan<int> tokens, ReadOnlySpan<int> seqs, ReadOnlySpan<int> positions)
    {
        ModelConfig c = Config;
        int n = tokens.Length, dim = c.HiddenSize, qDim = c.QDim, kvDim = c.KvDim, half = c.HeadDim / 2;
        for (int t = 0; t < n; t++)
        {
            _weights.Embedding.ReadRow(tokens[t], _x.AsSpan(t * dim, dim));
            _rope.Angles(positions[t], _cos.AsSpan(t * half, half), _sin.AsSpan(t * half, half));
        }

        for (int l = 0; l < c.NumLayers; l++)
        {
            CpuLayerWeights w = _weights.Layers[l];

            // Attention: q, k and v for every token; k and v into the token's sequence cache at its position.
            for (int t = 0; t < n; t++) RmsNorm.Apply(_x.AsSpan(t * dim, dim), w.AttnNorm, c.RmsNormEps, _xb.AsSpan(t * dim, dim));
            MatVec.Multiply(w.Q, _xb, _q, n, _threads);
            MatVec.Multiply(w.K, _xb, _k, n, _threads);
            MatVec.Multiply(w.V, _xb, _v, n, _threads);
            for (int t = 0; t < n; t++)
            {
                Span<float> q = _q.AsSpan(t * qDim, qDim), k = _k.AsSpan(t * kvDim, kvDim), v = _v.AsSpan(t * kvDim, kvDim);
                if (w.QBias != null) TensorPrimitives.Add(q, w.QBias, q);
                if (w.KBias != null) TensorPrimitives.Add(k, w.KBias, k);
                if (w.VBias != null) TensorPrimitives.Add(v, w.VBias, v);
                ReadOnlySpan<float> cos = _cos.AsSpan(t * half, half), sin = _sin.AsSpan(t * half, half);
                _rope.Apply(q, c.NumHeads, cos, sin);
                _rope.Apply(k, c.NumKvHeads, cos, sin);
                k.CopyTo(_caches[seqs[t]].Key(l, positions[t]));
                v.CopyTo(_caches[seqs[t]].Value(l, positions[t]));
            }
            for (int t = 0; t < n; t++)
            {
                // A sliding window (Mistral, Qwen2) starts the attended positions at `first`.
                KvCache kv = _caches[seqs[t]];
                int first = c.FirstAttendedPosition(l, positions[t]);
                Attention.Compute(_q.AsSpan(t * qDim, qDim), kv.KeyPointer(l, first), kv.ValuePointer(l, first), kvDim, positions[t] - first,
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
        foreach (KvCache kv in _caches) kv.Dispose();
        _lease.Dispose();
    }
}
