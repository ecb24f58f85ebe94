using CodecLlm.Model;

namespace CodecLlm.Tests.Codecs;

/// <summary>How the bits of generated test tensors are chosen.</summary>
public enum BitMode
{
    /// <summary>Every bit random.</summary>
    Random,

    /// <summary>Exponent uniform over every value of the field, rest random.</summary>
    UniformExponent,

    /// <summary>One exponent value for the whole tensor, rest random.</summary>
    SingleExponent,

    /// <summary>Only special values: ±0, ±Inf, NaNs with payloads, subnormals, extremes.</summary>
    Special,

    /// <summary>Gaussian weights of a trained-model scale (a few exponents dominate).</summary>
    Gaussian,
}

/// <summary>Builds test tensors bit by bit from a seed.</summary>
public static class TensorData
{
    public static byte[] Make(TensorDType dt, long count, BitMode mode, int seed)
    {
        Random rng = new(seed);
        int eb = dt.ByteSize();
        byte[] data = new byte[count * eb];
        uint[] specials = Specials(dt);
        int singleExponent = rng.Next(dt == TensorDType.F16 ? 32 : 256);
        for (long i = 0; i < count; i++)
        {
            uint v = mode switch
            {
                BitMode.Random => (uint)rng.NextInt64(0, 1L << 32),
                BitMode.UniformExponent => WithExponent(dt, (uint)rng.NextInt64(0, 1L << 32), rng.Next(dt == TensorDType.F16 ? 32 : 256)),
                BitMode.SingleExponent => WithExponent(dt, (uint)rng.NextInt64(0, 1L << 32), singleExponent),
                BitMode.Special => specials[rng.Next(specials.Length)],
                _ => FromFloat(dt, (float)(Gaussian(rng) * 0.02)),
            };
            if (eb == 2) v &= 0xFFFF;
            for (int b = 0; b < eb; b++) data[i * eb + b] = (byte)(v >> (8 * b));
        }
        return data;
    }

    public static uint[] Specials(TensorDType dt) => dt switch
    {
        // +0, -0, +Inf, -Inf, quiet NaN, NaN with payload, signalling NaN, -NaN, min/max subnormal, max finite, min normal, -1
        TensorDType.BF16 => [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7FC5, 0x7F81, 0xFFFF, 0x0001, 0x007F, 0x7F7F, 0x0080, 0xBF80],
        TensorDType.F16 => [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7E55, 0x7C01, 0xFFFF, 0x0001, 0x03FF, 0x7BFF, 0x0400, 0xBC00],
        _ => [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7FC12345, 0x7F800001, 0xFFFFFFFF, 0x00000001, 0x007FFFFF, 0x7F7FFFFF, 0x00800000, 0xBF800000],
    };

    private static uint WithExponent(TensorDType dt, uint v, int e) => dt switch
    {
        TensorDType.BF16 => (v & 0x807F) | (uint)e << 7,
        TensorDType.F16 => (v & 0x83FF) | (uint)e << 10,
        _ => (v & 0x807FFFFF) | (uint)e << 23,
    };

    private static uint FromFloat(TensorDType dt, float f) => dt switch
    {
        TensorDType.BF16 => BitConverter.SingleToUInt32Bits(f) >> 16,
        TensorDType.F16 => BitConverter.HalfToUInt16Bits((Half)f),
        _ => BitConverter.SingleToUInt32Bits(f),
    };

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Every 16-bit pattern once, as a [256, 256] tensor.</summary>
    public static byte[] All16BitPatterns()
    {
        byte[] data = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            data[2 * i] = (byte)i;
            data[2 * i + 1] = (byte)(i >> 8);
        }
        return data;
    }
}
