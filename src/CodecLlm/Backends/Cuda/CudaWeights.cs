using System.Runtime.InteropServices;
using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>The weights of one transformer layer on the device.</summary>
internal sealed class GpuLayer
{
    public required GpuMatrix Q, K, V, O, Gate, Up, Down;
    public required DeviceBuffer AttnNorm, MlpNorm;
    public DeviceBuffer? QBias, KBias, VBias;
}

/// <summary>
/// Uploads a model's tensors. Matrices that <see cref="StaysCompressed"/> (a GPU decoder, the group selected, and
/// for F16/F32 a blob smaller than the raw tensor) stay compressed in VRAM; every other matrix is decoded once
/// (fixed/entropy on the GPU, zstd on the CPU) and stored raw. Norms and biases are stored as F32.
/// </summary>
internal sealed unsafe class CudaWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public required GpuMatrix Embedding { get; init; }
    public required GpuMatrix Head { get; init; }
    public required GpuLayer[] Layers { get; init; }
    public required DeviceBuffer FinalNorm { get; init; }

    public IEnumerable<GpuMatrix> Matrices => Layers.SelectMany(l => new[] { l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down }).Append(Head);

    /// <summary>Bytes the weights will take on the device under this policy (for the fits-in-memory check).</summary>
    public static long PlannedBytes(LoadedModel model, Func<ModelTensor, bool> keepCompressed) =>
        model.Tensors.Values.Sum(t => IsMatrix(t) && StaysCompressed(t, keepCompressed) && (t.Name != TensorNames.Embedding || GathersCompressed(t)) ? t.StoredLength
            : IsMatrix(t) ? t.ByteLength : t.ElementCount * 4);

    private static bool IsMatrix(ModelTensor t) => t.Shape.Length == 2;

    /// <summary>
    /// Whether a matrix stays compressed in VRAM: a GPU decoder reads its blob, its group is selected, and an F16 or
    /// F32 blob is smaller than the raw tensor. (`fixed` and `entropy` keep an F16 weight's sign and mantissa in two
    /// whole bytes: about 19 and 18.5 bits a weight against 16 raw, so F16 matrices are decoded once at load; F32 ones
    /// take about 27 and 26.5 bits against 32 and stay compressed. BF16 blobs stay compressed whatever their size, as before.)
    /// </summary>
    internal static bool StaysCompressed(ModelTensor t, Func<ModelTensor, bool> keepCompressed) =>
        GpuDecoders.CanDecode(t) && keepCompressed(t) && (t.DType == TensorDType.BF16 || t.StoredLength < t.ByteLength);

    /// <summary>The embedding gather decodes rows on the fly from `fixed` BF16 tiles only (CudaOps.EmbedFixed).</summary>
    private static bool GathersCompressed(ModelTensor t) => t.Codec == "fixed" && t.DType == TensorDType.BF16;

    public static CudaWeights Load(CudaContext ctx, CudaStream stream, LoadedModel model, Func<ModelTensor, bool> keepCompressed)
    {
        ModelConfig c = model.Config;
        var owned = new List<IDisposable>();
        GpuMatrix Matrix(string name, bool allowCompressed = true)
        {
            ModelTensor t = model.GetTensor(name);
            if (t.Shape.Length != 2) throw new ModelFormatException($"{model.SourcePath}: tensor '{name}' should be a matrix, has shape [{string.Join(", ", t.Shape)}]");
            GpuMatrix m = allowCompressed && StaysCompressed(t, keepCompressed) ? UploadMatrix(ctx, stream, t, keepCompressed: true) : RawMatrix(ctx, stream, t);
            owned.Add(m);
            return m;
        }
        DeviceBuffer Vector(string name, int length)
        {
            ModelTensor t = model.GetTensor(name);
            if (t.ElementCount != length) throw new ModelFormatException($"{model.SourcePath}: tensor '{name}' has {t.ElementCount} elements, expected {length}");
            float[] f = ToFloat(t);
            DeviceBuffer b = stream.UploadNew<float>(ctx.Allocator, f, MemoryCategory.Weights, name);
            owned.Add(b);
            return b;
        }
        DeviceBuffer? OptionalVector(string name, int length) => model.Tensors.ContainsKey(name) ? Vector(name, length) : null;

        GpuMatrix embedding = EmbeddingMatrix(ctx, stream, model.GetTensor(TensorNames.Embedding), keepCompressed);
        owned.Add(embedding);
        var layers = new GpuLayer[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            layers[l] = new GpuLayer
            {
                Q = Matrix(TensorNames.Q(l)),
                K = Matrix(TensorNames.K(l)),
                V = Matrix(TensorNames.V(l)),
                O = Matrix(TensorNames.O(l)),
                Gate = Matrix(TensorNames.Gate(l)),
                Up = Matrix(TensorNames.Up(l)),
                Down = Matrix(TensorNames.Down(l)),
                AttnNorm = Vector(TensorNames.AttnNorm(l), c.HiddenSize),
                MlpNorm = Vector(TensorNames.MlpNorm(l), c.HiddenSize),
                QBias = OptionalVector(TensorNames.QBias(l), c.QDim),
                KBias = OptionalVector(TensorNames.KBias(l), c.KvDim),
                VBias = OptionalVector(TensorNames.VBias(l), c.KvDim),
            };
        }
        GpuMatrix head = c.TiedEmbeddings || !model.Tensors.ContainsKey(TensorNames.LmHead) ? embedding : Matrix(TensorNames.LmHead);
        var w = new CudaWeights { Embedding = embedding, Head = head, Layers = layers, FinalNorm = Vector(TensorNames.FinalNorm, c.HiddenSize) };
        w._owned.AddRange(owned);
        stream.Synchronize();
        return w;
    }

    internal static GpuMatrix UploadMatrix(CudaContext ctx, CudaStream stream, ModelTensor t, bool keepCompressed)
    {
        int rows = t.Rows, cols = t.Cols;
        if (keepCompressed)
        {
            int groups = GpuDecoders.Validate(t, rows, cols, out FixedCodec.Sections? sections);
            DeviceBuffer blob = ctx.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, t.Name); // slack: the decoders' 8-byte windows
            stream.CopyToDevice(blob, 0, t.StoredPointer, t.StoredLength);
            DeviceBuffer? table = null;
            if (t.Codec == "entropy")
                table = stream.UploadNew<uint>(ctx.Allocator, GpuDecoders.EntropyTable(t.StoredBytes[..192], t.Name), MemoryCategory.Workspace, t.Name + " table");
            int laneSymbols = t.Codec == "entropy" ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(t.StoredBytes[16..]) : 0;
            return new GpuMatrix(t.Name, rows, cols, t.DType, t.Codec, blob, table, groups, laneSymbols, sections);
        }
        DeviceBuffer raw = ctx.Allocator.Allocate(t.ByteLength, MemoryCategory.Weights, t.Name);
        if (t.IsRaw)
        {
            stream.CopyToDevice(raw, 0, t.StoredPointer, t.ByteLength);
        }
        else
        {
            using var host = new NativeBuffer(t.ByteLength, zero: false);
            t.DecodeTo(new Span<byte>(host.Pointer, checked((int)t.ByteLength)));
            stream.CopyToDevice(raw, 0, host.Pointer, t.ByteLength);
            stream.Synchronize();
        }
        return new GpuMatrix(t.Name, rows, cols, t.DType, "raw", raw);
    }

    /// <summary>
    /// The embedding is gathered by row: a `fixed` BF16 one stays compressed (rows are decoded on the fly, see
    /// CudaOps.EmbedFixed); any other is decoded once and stored raw.
    /// </summary>
    private static GpuMatrix EmbeddingMatrix(CudaContext ctx, CudaStream stream, ModelTensor t, Func<ModelTensor, bool> keepCompressed) =>
        GathersCompressed(t) && StaysCompressed(t, keepCompressed) ? UploadMatrix(ctx, stream, t, keepCompressed: true) : RawMatrix(ctx, stream, t);

    /// <summary>A matrix stored raw: decoded once on the GPU where a GPU decoder reads its blob, else on the CPU (or copied as it is).</summary>
    private static GpuMatrix RawMatrix(CudaContext ctx, CudaStream stream, ModelTensor t)
    {
        if (!GpuDecoders.CanDecode(t)) return UploadMatrix(ctx, stream, t, keepCompressed: false);
        using GpuMatrix blob = UploadMatrix(ctx, stream, t, keepCompressed: true);
        DeviceBuffer raw = ctx.Allocator.Allocate(t.ByteLength, MemoryCategory.Weights, t.Name);
        GpuDecoders.Decode(ctx.Kernels, stream, blob, raw.Pointer, smCount: ctx.MultiprocessorCount);
        stream.Synchronize();
        return new GpuMatrix(t.Name, t.Rows, t.Cols, t.DType, "raw", raw);
    }

    private static float[] ToFloat(ModelTensor t)
    {
        byte[] bytes = t.DecodeToArray();
        var f = new float[t.ElementCount];
        switch (t.DType)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(f);
                break;
            case TensorDType.F16:
                ReadOnlySpan<Half> h = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < f.Length; i++) f[i] = (float)h[i];
                break;
            case TensorDType.BF16:
                ReadOnlySpan<ushort> b = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < f.Length; i++) f[i] = BitConverter.UInt32BitsToSingle((uint)b[i] << 16);
                break;
            default:
                throw new UnsupportedModelException($"tensor '{t.Name}': type {t.DType} is not a float type");
        }
        return f;
    }

    public void Dispose()
    {
        foreach (IDisposable d in _owned) d.Dispose();
        _owned.Clear();
    }
}
