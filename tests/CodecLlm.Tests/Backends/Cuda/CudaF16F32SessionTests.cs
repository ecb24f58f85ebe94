using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// F32 and F16 models with `fixed` / `entropy` matrices on the GPU against the same models uncompressed: logits
/// bit-identical at every step. F32 matrices stay compressed in VRAM (decoded into the scratch pipeline in decode
/// steps too, never given to the fused BF16 kernels); F16 blobs are larger than raw and are decoded once at load.
/// </summary>
[Collection("gpu")]
public class CudaF16F32SessionTests
{
    private static readonly ModelConfig Small = CudaSessionTests.Small;

    private static List<float[]> Run(IInferenceSession s, int steps) => CudaSessionTests.Run(s, steps);

    private static void AssertBitIdentical(List<float[]> expected, List<float[]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            int diff = expected[i].Where((v, k) => BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(actual[i][k])).Count();
            Assert.True(diff == 0, $"step {i}: {diff} logits differ (max |diff| {expected[i].Zip(actual[i], (x, y) => Math.Abs(x - y)).Max():E2})");
        }
    }

    /// <summary>
    /// F32 `fixed` / `entropy`: the layer matrices and the head stay compressed (about 27 bits a weight: the
    /// CompressedWeights category below 0.9 of the raw bytes), decoded to scratch in decode steps whether or not the
    /// fused fixed path is on, and in prefill row slices (100,000 bytes: slices inside entropy groups); the embedding is
    /// decoded once at load. Logits equal the raw F32 model's bit for bit.
    /// </summary>
    [Theory]
    [InlineData("fixed", true, "f32", 8 << 20)]
    [InlineData("fixed", false, "f32", 8 << 20)]
    [InlineData("fixed", true, "f16", 100_000)]
    [InlineData("entropy", true, "f32", 8 << 20)]
    [InlineData("entropy", true, "bf16", 100_000)]
    public void F32StaysCompressedAndLogitsAreBitIdentical(string codec, bool fused, string kv, int sliceBytes)
    {
        GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.F32, 42);
        using LoadedModel packed = InMemoryCompression.Compress(model, codec);
        using var backend = new CudaBackend(new CudaBackendOptions { FusedFixed = fused, PrefillChunk = 4, PrefillSliceBytes = sliceBytes });
        CudaContext c = backend.Context;  // the backend's own context: its allocator counts the session's bytes
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions { KvCacheType = kv })) a = Run(s, 16);
        c.Allocator.ResetPeak();
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions { KvCacheType = kv }))
        {
            (long compressed, long decoded) = s.CompressedWeightBytes;
            long matrices = Small.NumLayers * (2L * Small.HiddenSize * Small.HiddenSize + 2L * Small.KvDim * Small.HiddenSize + 3L * Small.HiddenSize * Small.IntermediateSize)
                + (long)Small.VocabSize * Small.HiddenSize;  // the layers and the head, in elements
            Assert.Equal(4 * matrices, decoded);
            Assert.True(compressed > 0.8 * decoded && compressed < 0.9 * decoded, $"{compressed:N0} bytes compressed for {decoded:N0} raw");
            long inVram = c.Allocator.Report().PeakByCategory[MemoryCategory.CompressedWeights];
            Assert.True(inVram >= compressed && inVram < 0.9 * decoded, $"CompressedWeights {inVram:N0} bytes for {decoded:N0} raw");
            b = Run(s, 16);
        }
        AssertBitIdentical(a, b);
    }

    /// <summary>F16 `fixed` / `entropy` blobs are larger than the raw tensors: decoded once at load (on the GPU), the logits equal the raw model's.</summary>
    [Theory]
    [InlineData("fixed")]
    [InlineData("entropy")]
    public void F16IsDecodedAtLoadAndLogitsAreBitIdentical(string codec)
    {
        GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.F16, 43);
        using LoadedModel packed = InMemoryCompression.Compress(model, codec);
        Assert.All(packed.Tensors.Values.Where(t => t.Codec == codec && t.Shape.Length == 2), t => Assert.True(t.StoredLength > t.ByteLength, t.Name));
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 4 });
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions())) a = Run(s, 16);
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions()))
        {
            Assert.Equal(0, s.CompressedWeightBytes.Compressed);
            b = Run(s, 16);
        }
        AssertBitIdentical(a, b);
    }

    /// <summary>stories260K (real weights; F32 as published and rounded to F16), every tensor `fixed` / `entropy`, against the same model raw.</summary>
    [Theory]
    [InlineData("fixed", TensorDType.F32)]
    [InlineData("fixed", TensorDType.F16)]
    [InlineData("entropy", TensorDType.F32)]
    [InlineData("entropy", TensorDType.F16)]
    public void Stories260KCompressedLogitsAreBitIdenticalToRaw(string codec, TensorDType dt)
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present: " + TestPaths.Stories260KBin);
        using LoadedModel source = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using LoadedModel model = Copy(source, dt);
        using LoadedModel packed = InMemoryCompression.Compress(model, codec);
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 4 });
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions())) a = Run(s, 24);
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions())) b = Run(s, 24);
        AssertBitIdentical(a, b);
    }

    /// <summary>The model with every tensor raw in <paramref name="dt"/> (F32 copied, F16 rounded).</summary>
    private static LoadedModel Copy(LoadedModel source, TensorDType dt)
    {
        var tensors = new Dictionary<string, ModelTensor>(StringComparer.Ordinal);
        var owned = new List<IDisposable>();
        foreach (ModelTensor t in source.Tensors.Values)
        {
            byte[] f32 = t.DecodeToArray();
            Assert.Equal(TensorDType.F32, t.DType);
            byte[] bytes = dt == TensorDType.F32 ? f32 : GpuF16F32DecoderTests.ToF16(f32);
            NativeBuffer b = NativeBuffer.CopyOf(bytes);
            owned.Add(b);
            tensors[t.Name] = new ModelTensor(t.Name, dt, t.Shape, b, 0, b.Length);
        }
        return new LoadedModel(source.SourcePath + " " + dt, source.Format, source.Config, tensors, source.Tokenizer, owned, source.ChatTemplate);
    }
}
