using CodecLlm.Backends.Cpu;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cpu;

/// <summary>Each operator against values computed by hand (in double precision, outside this code).</summary>
public class CpuOpsTests
{
    private static void Close(double[] expected, ReadOnlySpan<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void RmsNorm_MatchesHandComputation()
    {
        // mean(x²) = 30/4 = 7.5; + eps 0.5 = 8; scale = 1/√8.
        float[] output = new float[4];
        RmsNorm.Apply([1, 2, 3, 4], [1, 1, 2, 0.5f], 0.5f, output);
        Close([0.35355339059327373, 0.7071067811865475, 2.1213203435596424, 0.7071067811865475], output);
    }

    [Fact]
    public void Softmax_MatchesHandComputation()
    {
        float[] x = [1, 2, 3];
        Softmax.Apply(x);
        Close([0.09003057317038046, 0.24472847105479767, 0.6652409557748219], x);
    }

    [Fact]
    public void Softmax_LargeLogitsDoNotOverflow()
    {
        float[] x = [1000, 1000];
        Softmax.Apply(x);
        Close([0.5, 0.5], x);
    }

    [Theory]
    [InlineData(RopeStyle.Interleaved, new[] { -1.1426396637476532, 1.922075596544176, 2.9598506679133294, 4.029799501669161 })]
    [InlineData(RopeStyle.HalfSplit, new[] { -1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994 })]
    public void Rope_RotatesTheRightPairs(RopeStyle style, double[] expected)
    {
        // headDim 4, θ 10000: pair 0 turns by pos·1, pair 1 by pos·0.01. Interleaved pairs (0,1),(2,3);
        // half-split pairs (0,2),(1,3).
        RotaryEmbedding rope = new(4, 10000f, style);
        float[] cos = new float[2], sin = new float[2], v = [1, 2, 3, 4];
        rope.Angles(1, cos, sin);
        rope.Apply(v, 1, cos, sin);
        Close(expected, v);
    }

    [Fact]
    public void Rope_PositionZeroIsIdentity()
    {
        RotaryEmbedding rope = new(8, 10000f, RopeStyle.HalfSplit);
        float[] cos = new float[4], sin = new float[4], v = [1, 2, 3, 4, 5, 6, 7, 8];
        rope.Angles(0, cos, sin);
        rope.Apply(v, 1, cos, sin);
        Close([1, 2, 3, 4, 5, 6, 7, 8], v, 0);
    }

    [Fact]
    public void Rope_Llama3ScalingMatchesHuggingFaceFormula()
    {
        // Llama 3.1: θ 500000, factor 8, low 1, high 4, original context 8192 (values from HF's formula in double).
        RotaryEmbedding rope = new(128, 500000f, RopeStyle.HalfSplit, new RopeScaling("llama3", 8, 1, 4, 8192));
        (int Index, double Expected)[] cases =
        [
            (0, 1.0), (20, 0.016560440080994446), // high frequency: unchanged
            (31, 0.0008567514129196321), (34, 0.00017850781276799638), // smooth band
            (40, 3.428102195952591e-05), (63, 3.068925988914511e-07), // low frequency: divided by 8
        ];
        foreach ((int i, double expected) in cases)
            Assert.True(Math.Abs(rope.InverseFrequencies[i] - expected) <= 1e-5 * expected, $"inv_freq[{i}] = {rope.InverseFrequencies[i]}, expected {expected}");
    }

    [Fact]
    public unsafe void Attention_TwoPositionsGroupedQuery()
    {
        // Two query heads share one kv head (headDim 2). k0 = (1,0), k1 = (0,1); v0 = (1,2), v1 = (3,4).
        // Head 0: q = (1,0) → scores (1/√2, 0) → weights (0.66976, 0.33024). Head 1: q = (0,1) → mirrored.
        float[] keys = [1, 0, 0, 1], values = [1, 2, 3, 4], q = [1, 0, 0, 1], output = new float[4], scores = new float[4];
        fixed (float* k = keys)
        fixed (float* v = values)
        {
            Attention.Compute(q, k, v, kvStride: 2, pos: 1, numHeads: 2, numKvHeads: 1, headDim: 2, output, scores);
        }
        Close([1.6604769013466862, 2.6604769013466862, 2.3395230986533138, 3.3395230986533138], output);
    }

    [Fact]
    public unsafe void Attention_FirstPositionReturnsItsValue()
    {
        float[] keys = [0.3f, -2], values = [5, -7], q = [4, 1], output = new float[2], scores = new float[1];
        fixed (float* k = keys)
        fixed (float* v = values)
        {
            Attention.Compute(q, k, v, 2, 0, 1, 1, 2, output, scores);
        }
        Close([5, -7], output, 0);
    }

    [Fact]
    public void SwiGlu_MatchesHandComputation()
    {
        // silu(1) = 1/(1+e^-1) = 0.7310585786; silu(-2) = -2/(1+e^2) = -0.2384058440.
        float[] gate = [1, -2, 0];
        SwiGlu.Apply(gate, [2, 3, 5]);
        Close([1.4621171572600098, -0.7152175320, 0], gate);
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public unsafe void MatVec_MatchesDoublePrecisionReference(TensorDType dtype)
    {
        // Odd sizes exercise the vector tails; 300 rows × 301 cols is above the parallel threshold.
        foreach ((int rows, int cols) in new[] { (37, 5), (300, 301), (64, 1000) })
        {
            Random rng = new(rows * 1000 + cols);
            byte[] stored = new byte[rows * cols * dtype.ByteSize()];
            double[] w = new double[rows * cols];
            for (int i = 0; i < w.Length; i++)
            {
                float v = (float)(rng.NextDouble() * 2 - 1);
                switch (dtype)
                {
                    case TensorDType.F32:
                        BitConverter.TryWriteBytes(stored.AsSpan(i * 4), v);
                        w[i] = v;
                        break;
                    case TensorDType.F16:
                        Half h = (Half)v;
                        BitConverter.TryWriteBytes(stored.AsSpan(i * 2), h);
                        w[i] = (double)h;
                        break;
                    default:
                        ushort b = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16); // truncation: any BF16 value will do
                        BitConverter.TryWriteBytes(stored.AsSpan(i * 2), b);
                        w[i] = BitConverter.UInt32BitsToSingle((uint)b << 16);
                        break;
                }
            }
            float[] x = new float[cols];
            for (int j = 0; j < cols; j++) x[j] = (float)(rng.NextDouble() * 2 - 1);
            float[] y = new float[rows];
            fixed (byte* p = stored)
            {
                MatVec.Multiply(new WeightMatrix(p, dtype, rows, cols), x, y, threads: 4);
            }
            for (int r = 0; r < rows; r++)
            {
                double expected = 0, magnitude = 0;
                for (int j = 0; j < cols; j++)
                {
                    expected += w[r * cols + j] * x[j];
                    magnitude += Math.Abs(w[r * cols + j] * x[j]);
                }
                Assert.True(Math.Abs(expected - y[r]) <= 1e-6 * magnitude + 1e-7, $"{dtype} [{rows}x{cols}] row {r}: expected {expected}, got {y[r]}");
            }
        }
    }

    [Fact]
    public unsafe void MatVec_ResultDoesNotDependOnThreadCount()
    {
        Random rng = new(7);
        float[] w = new float[512 * 256], x = new float[256], y1 = new float[512], y4 = new float[512];
        for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
        fixed (float* p = w)
        {
            WeightMatrix m = new((byte*)p, TensorDType.F32, 512, 256);
            MatVec.Multiply(m, x, y1, 1);
            MatVec.Multiply(m, x, y4, 4);
        }
        Assert.Equal(y1, y4);
    }

    [Fact]
    public void Bf16Widening_IsExactForSpecialValues()
    {
        ushort[] bits = [0x0000, 0x8000, 0x3F80, 0xBF80, 0x7F80, 0xFF80, 0x0001, 0x7FC1];
        float[] widened = new float[bits.Length * 3];
        ushort[] many = [.. bits, .. bits, .. bits]; // 24 values: both the vector path and the tail run
        RowConversion.Bf16ToSingle(many, widened);
        for (int i = 0; i < many.Length; i++)
            Assert.Equal((uint)many[i] << 16, BitConverter.SingleToUInt32Bits(widened[i]));
    }
}
