using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Random models of a known shape generated on the GPU (hash-based normals, N(0, 0.02²) matrices and embedding,
/// norms 1 + N(0, 0.02²)), copied back to host buffers so they can be encoded by the CPU codecs and loaded
/// like any other model. Deterministic for a seed.
/// </summary>
public static class CudaSyntheticModel
{
    public static LoadedModel Create(CudaContext ctx, ModelConfig c, TensorDType dtype, ulong seed, string sourcePath)
    {
        var specs = new List<(string Name, long[] Shape, bool Norm)> { (TensorNames.Embedding, [c.VocabSize, c.HiddenSize], false) };
        for (int l = 0; l < c.NumLayers; l++)
        {
            specs.Add((TensorNames.AttnNorm(l), [c.HiddenSize], true));
            specs.Add((TensorNames.Q(l), [c.QDim, c.HiddenSize], false));
            specs.Add((TensorNames.K(l), [c.KvDim, c.HiddenSize], false));
            specs.Add((TensorNames.V(l), [c.KvDim, c.HiddenSize], false));
            specs.Add((TensorNames.O(l), [c.HiddenSize, c.QDim], false));
            specs.Add((TensorNames.MlpNorm(l), [c.HiddenSize], true));
            specs.Add((TensorNames.Gate(l), [c.IntermediateSize, c.HiddenSize], false));
            specs.Add((TensorNames.Up(l), [c.IntermediateSize, c.HiddenSize], false));
            specs.Add((TensorNames.Down(l), [c.HiddenSize, c.IntermediateSize], false));
        }
        specs.Add((TensorNames.FinalNorm, [c.HiddenSize], true));
        if (!c.TiedEmbeddings) specs.Add((TensorNames.LmHead, [c.VocabSize, c.HiddenSize], false));

        var ops = new CudaOps(ctx);
        using var stream = new CudaStream(ctx);
        var tensors = new Dictionary<string, ModelTensor>(StringComparer.Ordinal);
        var owned = new List<IDisposable>();
        ulong i = 0;
        foreach (var (name, shape, norm) in specs)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            long bytes = n * dtype.ByteSize();
            using DeviceBuffer d = ctx.Allocator.Allocate(bytes, MemoryCategory.Workspace, "synthetic " + name);
            ops.Synthesize(stream, d.Pointer, n, seed * 1000003 + i++, norm ? 1f : 0f, SyntheticModel.Std, CudaOps.DTypeCode(dtype));
            var host = new NativeBuffer(bytes, zero: false);
            unsafe
            {
                stream.CopyToHost(host.Pointer, d, 0, bytes);
            }
            stream.Synchronize();
            owned.Add(host);
            tensors[name] = new ModelTensor(name, dtype, shape, host, 0, bytes);
        }
        return new LoadedModel(sourcePath, "synthetic", c, tensors, null, owned);
    }
}
