using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// In-memory compression (what `bench --device cuda --codec SPEC` runs; no GPU needed) takes codec specs with
/// parameters: stories260K's tensors encoded as entropy:lane_symbols=64 carry the codec's name and that parameter,
/// and decode back to the original bytes.
/// </summary>
public class InMemoryCompressionTests
{
    [Fact]
    public void SpecParametersReachTheBlobsAndTheyRoundTrip()
    {
        using LoadedModel raw = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using LoadedModel packed = InMemoryCompression.Compress(raw, "entropy:lane_symbols=64");
        int compressed = 0;
        foreach (ModelTensor t in packed.Tensors.Values.Where(t => !t.IsRaw))
        {
            Assert.Equal("entropy", t.Codec);
            Assert.Equal("64", t.CodecParams["lane_symbols"]);
            var decoded = new byte[t.ByteLength];
            CodecRegistry.Get(t.Codec).Decode(t.StoredBytes, new TensorLayout(t.DType, t.Shape), t.CodecParams, decoded, t.Name);
            Assert.Equal(raw.Tensors[t.Name].StoredBytes.ToArray(), decoded);
            compressed++;
        }
        Assert.True(compressed > 5, $"{compressed} tensors compressed");
    }
}
