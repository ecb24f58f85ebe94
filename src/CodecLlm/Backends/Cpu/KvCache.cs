using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>Keys and values of every layer and position, float32, laid out [layer][position][kvDim].</summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly NativeBuffer _keys;
    private readonly NativeBuffer _values;

    public KvCache(int layers, int maxPositions, int kvDim)
    {
        Layers = layers;
        MaxPositions = maxPositions;
        KvDim = kvDim;
        long bytes = (long)layers * maxPositions * kvDim * sizeof(float);
        _keys = new NativeBuffer(bytes);
        _values = new NativeBuffer(bytes);
    }

    public int Layers { get; }

    public int MaxPositions { get; }

    public int KvDim { get; }

    public long ByteLength => _keys.Length + _values.Length;

    public Span<float> Key(int layer, int pos) => new(KeyPointer(layer, pos), KvDim);

    public Span<float> Value(int layer, int pos) => new(ValuePointer(layer, pos), KvDim);

    /// <summary>Keys of positions 0.. of a layer, contiguous (position stride = KvDim).</summary>
    public float* KeyPointer(int layer, int pos) => (float*)_keys.Pointer + ((long)layer * MaxPositions + pos) * KvDim;

    public float* ValuePointer(int layer, int pos) => (float*)_values.Pointer + ((long)layer * MaxPositions + pos) * KvDim;

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
