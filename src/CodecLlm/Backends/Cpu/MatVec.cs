using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using CodecLlm.Model;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// y = W x for a [rows, cols] weight matrix (and its batched form): the operation that dominates inference. Each row's dot product
/// is computed by one thread in a fixed order, so results do not depend on the thread count; rows are split
/// into blocks run with Parallel.For when the matrix is large enough to pay for it.
/// </summary>
public static unsafe class MatVec
{
    /// <summary>Matrices with fewer elements than this run on the calling thread.</summary>
    public const long ParallelThreshold = 1 << 16;

    private const int ChunkSize = 256;

    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int threads) => Multiply(w, x, y, 1, threads);

    /// <summary>
    /// Y = X Wᵀ for a batch of vectors: x holds <paramref name="batch"/> rows of Cols values, y receives batch
    /// rows of Rows values. Each weight row is read from memory once for the whole batch, and every (row, vector)
    /// dot product is the same computation as in the single-vector case, so batching does not change results.
    /// </summary>
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        if (batch < 1 || x.Length < (long)batch * w.Cols || y.Length < (long)batch * w.Rows)
            throw new ArgumentException($"matmul [{w.Rows}, {w.Cols}] × {batch} vectors given x of {x.Length} and y of {y.Length}");
        fixed (float* px = x)
        fixed (float* py = y)
        {
            MultiplyCore(w, px, py, batch, threads);
        }
    }

    private static void MultiplyCore(WeightMatrix w, float* x, float* y, int batch, int threads)
    {
        if (threads <= 1 || (long)w.Rows * w.Cols * batch < ParallelThreshold)
        {
            MultiplyRows(w, x, y, batch, 0, w.Rows);
            return;
        }
        int blocks = Math.Min(w.Rows, threads * 8);
        nint px = (nint)x, py = (nint)y;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            int start = (int)((long)w.Rows * b / blocks), end = (int)((long)w.Rows * (b + 1) / blocks);
            MultiplyRows(w, (float*)px, (float*)py, batch, start, end);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyRows(WeightMatrix w, float* x, float* y, int batch, int start, int end)
    {
        int n = w.Cols, m = w.Rows;
        for (int r = start; r < end; r++)
        {
            byte* row = w.Row(r);
            for (int t = 0; t < batch; t++) y[(long)t * m + r] = Dot(w.DType, row, x + (long)t * n, n);
        }
    }

    /// <summary>One weight row (of <paramref name="dtype"/>) dotted with a float32 vector of length n.</summary>
    public static float Dot(TensorDType dtype, byte* row, float* x, int n) => dtype switch
    {
        TensorDType.F32 => TensorPrimitives.Dot(new ReadOnlySpan<float>(row, n), new ReadOnlySpan<float>(x, n)),
        TensorDType.BF16 => DotBf16((ushort*)row, x, n),
        TensorDType.F16 => DotF16((Half*)row, x, n),
        _ => throw new UnsupportedModelException($"cannot compute with {dtype} weights"),
    };

    /// <summary>Dot product of a BF16 row with a float32 vector, widening in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotBf16(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 32; i += 32)
            {
                (Vector256<uint> l0, Vector256<uint> h0) = Vector256.Widen(Vector256.Load(w + i));
                (Vector256<uint> l1, Vector256<uint> h1) = Vector256.Widen(Vector256.Load(w + i + 16));
                a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(l0, 16).AsSingle(), Vector256.Load(x + i), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(h0, 16).AsSingle(), Vector256.Load(x + i + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(l1, 16).AsSingle(), Vector256.Load(x + i + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(h1, 16).AsSingle(), Vector256.Load(x + i + 24), a3);
            }
            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) sum += RowConversion.Bf16ToSingle(w[i]) * x[i];
        return sum;
    }

    /// <summary>Dot product of an F16 row with a float32 vector, widening a chunk at a time on the stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotF16(Half* w, float* x, int n)
    {
        Span<float> chunk = stackalloc float[ChunkSize];
        float sum = 0;
        for (int i = 0; i < n; i += ChunkSize)
        {
            int len = Math.Min(ChunkSize, n - i);
            Span<float> c = chunk[..len];
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(w + i, len), c);
            sum += TensorPrimitives.Dot(c, new ReadOnlySpan<float>(x + i, len));
        }
        return sum;
    }
}
