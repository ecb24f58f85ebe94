using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// Causal grouped-query attention for one query position over the cached positions 0..pos. Query head h reads
/// key/value head h / (numHeads / numKvHeads).
/// </summary>
public static unsafe class Attention
{
    /// <param name="q">numHeads × headDim query values.</param>
    /// <param name="keys">key of position t, head g at keys + t * kvStride + g * headDim.</param>
    /// <param name="values">laid out as keys.</param>
    /// <param name="output">numHeads × headDim: per head, the softmax-weighted sum of values.</param>
    /// <param name="scores">scratch of at least (pos + 1) floats per head (numHeads × (pos + 1) when threaded).</param>
    public static void Compute(ReadOnlySpan<float> q, float* keys, float* values, int kvStride, int pos, int numHeads, int numKvHeads,
        int headDim, Span<float> output, Span<float> scores, int threads = 1)
    {
        int positions = pos + 1;
        if (q.Length < numHeads * headDim || output.Length < numHeads * headDim || scores.Length < positions)
            throw new ArgumentException("attention buffers are too small");
        bool parallel = threads > 1 && (long)positions * numHeads * headDim >= 1 << 15 && scores.Length >= numHeads * positions;
        fixed (float* pq = q)
        fixed (float* po = output)
        fixed (float* ps = scores)
        {
            nint qa = (nint)pq, oa = (nint)po, sa = (nint)ps, ka = (nint)keys, va = (nint)values;
            if (!parallel)
            {
                for (int h = 0; h < numHeads; h++) Head(h, pq, keys, values, kvStride, positions, numHeads / numKvHeads, headDim, po, ps);
                return;
            }
            Parallel.For(0, numHeads, new ParallelOptions { MaxDegreeOfParallelism = threads }, h =>
                Head(h, (float*)qa, (float*)ka, (float*)va, kvStride, positions, numHeads / numKvHeads, headDim, (float*)oa, (float*)sa + (long)h * positions));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Head(int h, float* q, float* keys, float* values, int kvStride, int positions, int group, int headDim, float* output, float* scores)
    {
        int kvOffset = h / group * headDim;
        ReadOnlySpan<float> qh = new(q + h * headDim, headDim);
        Span<float> att = new(scores, positions);
        float sqrtHeadDim = MathF.Sqrt(headDim);
        for (int t = 0; t < positions; t++)
            att[t] = TensorPrimitives.Dot(qh, new ReadOnlySpan<float>(keys + (long)t * kvStride + kvOffset, headDim)) / sqrtHeadDim;
        Softmax.Apply(att);
        Span<float> oh = new(output + h * headDim, headDim);
        oh.Clear();
        for (int t = 0; t < positions; t++)
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(values + (long)t * kvStride + kvOffset, headDim), att[t], oh, oh);
    }
}
