using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Encodes a loaded model's tensors with a codec in memory (no file), for benchmarks and tests that compare
/// a compressed model with its original in one process. The result owns its blobs. <c>codec</c> is a name or a spec
/// with parameters ("entropy:lane_symbols=512", <see cref="CodecRegistry.CreateEncoder"/>).
/// </summary>
public static class InMemoryCompression
{
    public static LoadedModel Compress(LoadedModel source, string codec, TensorSelection? selection = null)
    {
        IWeightCodec c = CodecRegistry.CreateEncoder(codec);
        TensorSelection sel = selection ?? TensorSelection.All;
        var tensors = new Dictionary<string, ModelTensor>(StringComparer.Ordinal);
        var owned = new List<IDisposable>();
        var gate = new object();
        Parallel.ForEach(source.Tensors.Values, t =>
        {
            ModelTensor result = t;
            if (t.IsRaw && sel.Includes(t.Name, t.Shape.Length))
            {
                byte[] raw = t.ByteLength <= int.MaxValue ? t.StoredBytes.ToArray() : throw new UnsupportedModelException($"tensor '{t.Name}' is too large to encode in memory");
                EncodedTensor e = c.Encode(raw, new TensorLayout(t.DType, t.Shape));
                NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
                result = new ModelTensor(t.Name, t.DType, t.Shape, blob, 0, blob.Length, c.Name, e.Params);
                lock (gate) owned.Add(blob);
            }
            lock (gate) tensors[t.Name] = result;
        });
        return new LoadedModel(source.SourcePath + $" ({codec})", source.Format, source.Config, tensors, source.Tokenizer, owned, source.ChatTemplate);
    }
}
