using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>The weights of one decoder layer as the CPU backend uses them.</summary>
public sealed class CpuLayerWeights
{
    public required float[] AttnNorm { get; init; }
    public required WeightMatrix Q { get; init; }
    public required WeightMatrix K { get; init; }
    public required WeightMatrix V { get; init; }
    public required WeightMatrix O { get; init; }
    public float[]? QBias { get; init; }
    public float[]? KBias { get; init; }
    public float[]? VBias { get; init; }
    public required float[] MlpNorm { get; init; }
    public required WeightMatrix Gate { get; init; }
    public required WeightMatrix Up { get; init; }
    public required WeightMatrix Down { get; init; }
}

/// <summary>
/// All weights of a model, ready for the CPU: matrices point at the raw tensor bytes (the mapped file) or, for
/// compressed tensors, at native buffers they were decoded into once; norms and biases are small float arrays.
/// Shapes are checked against the config here, so a mismatched checkpoint fails before any compute.
/// </summary>
public sealed unsafe class CpuWeights : IDisposable
{
    private readonly List<NativeBuffer> _decoded = [];

    public CpuWeights(LoadedModel model)
    {
        ModelConfig c = model.Config;
        try
        {
            Embedding = Matrix(model, TensorNames.Embedding, c.VocabSize, c.HiddenSize);
            Layers = new CpuLayerWeights[c.NumLayers];
            for (int l = 0; l < c.NumLayers; l++)
            {
                Layers[l] = new CpuLayerWeights
                {
                    AttnNorm = Vector(model, TensorNames.AttnNorm(l), c.HiddenSize),
                    Q = Matrix(model, TensorNames.Q(l), c.QDim, c.HiddenSize),
                    K = Matrix(model, TensorNames.K(l), c.KvDim, c.HiddenSize),
                    V = Matrix(model, TensorNames.V(l), c.KvDim, c.HiddenSize),
                    O = Matrix(model, TensorNames.O(l), c.HiddenSize, c.QDim),
                    QBias = c.AttentionBias ? Vector(model, TensorNames.QBias(l), c.QDim) : null,
                    KBias = c.AttentionBias ? Vector(model, TensorNames.KBias(l), c.KvDim) : null,
                    VBias = c.AttentionBias ? Vector(model, TensorNames.VBias(l), c.KvDim) : null,
                    MlpNorm = Vector(model, TensorNames.MlpNorm(l), c.HiddenSize),
                    Gate = Matrix(model, TensorNames.Gate(l), c.IntermediateSize, c.HiddenSize),
                    Up = Matrix(model, TensorNames.Up(l), c.IntermediateSize, c.HiddenSize),
                    Down = Matrix(model, TensorNames.Down(l), c.HiddenSize, c.IntermediateSize),
                };
            }
            FinalNorm = Vector(model, TensorNames.FinalNorm, c.HiddenSize);
            Head = c.TiedEmbeddings ? Embedding : Matrix(model, TensorNames.LmHead, c.VocabSize, c.HiddenSize);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public WeightMatrix Embedding { get; }

    public CpuLayerWeights[] Layers { get; } = [];

    public float[] FinalNorm { get; } = [];

    public WeightMatrix Head { get; }

    /// <summary>Bytes of weights one token reads (every matrix once; the embedding row is negligible).</summary>
    public long MatrixBytesPerToken
    {
        get
        {
            long sum = Head.ByteLength;
            foreach (CpuLayerWeights l in Layers)
                sum += l.Q.ByteLength + l.K.ByteLength + l.V.ByteLength + l.O.ByteLength + l.Gate.ByteLength + l.Up.ByteLength + l.Down.ByteLength;
            return sum;
        }
    }

    /// <summary>Bytes held in buffers decoded from compressed tensors.</summary>
    public long DecodedBytes => _decoded.Sum(b => b.Length);

    private WeightMatrix Matrix(LoadedModel model, string name, int rows, int cols)
    {
        ModelTensor t = model.GetTensor(name);
        if (t.Shape.Length != 2 || t.Shape[0] != rows || t.Shape[1] != cols)
            throw new ModelFormatException($"{model.SourcePath}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{rows}, {cols}]");
        if (t.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
            throw new UnsupportedModelException($"{model.SourcePath}: tensor '{name}' is {t.DType}; the CPU backend computes with F32, F16 and BF16");
        if (t.IsRaw) return new WeightMatrix(t.StoredPointer, t.DType, rows, cols);
        NativeBuffer buffer = new(t.ByteLength, zero: false);
        _decoded.Add(buffer);
        t.DecodeTo(buffer.Span);
        return new WeightMatrix(buffer.Pointer, t.DType, rows, cols);
    }

    private static float[] Vector(LoadedModel model, string name, int length)
    {
        ModelTensor t = model.GetTensor(name);
        if (t.ElementCount != length || t.Shape.Length != 1)
            throw new ModelFormatException($"{model.SourcePath}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{length}]");
        return RowConversion.ToSingleArray(t);
    }

    public void Dispose()
    {
        foreach (NativeBuffer b in _decoded) b.Dispose();
        _decoded.Clear();
    }
}
