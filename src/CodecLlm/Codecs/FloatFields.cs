using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// Splits a float element into its exponent field (the compressible part) and "the rest" (sign and
/// mantissa, kept raw), and joins them back. Every codec that separates the exponent uses these
/// definitions, documented in docs/FORMAT.md:
/// <list type="bullet">
/// <item>BF16: exponent = bits 14..7 (8 bits); rest = 1 byte: bit 7 = sign, bits 6..0 = mantissa.</item>
/// <item>F16: exponent = bits 14..10 (5 bits); rest = 2 bytes (LE uint16): bit 10 = sign, bits 9..0 = mantissa.</item>
/// <item>F32: exponent = bits 30..23 (8 bits); rest = 3 bytes (LE): bit 23 = sign, bits 22..0 = mantissa.</item>
/// </list>
/// </summary>
public static class FloatFields
{
    /// <summary>Bytes of "rest" per element: 1 (BF16), 2 (F16), 3 (F32).</summary>
    public static int RestBytes(TensorDType dtype) => dtype switch
    {
        TensorDType.BF16 => 1,
        TensorDType.F16 => 2,
        TensorDType.F32 => 3,
        _ => throw new UnsupportedModelException($"codecs handle F32, F16 and BF16 tensors, not {dtype}"),
    };

    /// <summary>Bits of the exponent field: 8 (BF16, F32) or 5 (F16).</summary>
    public static int ExponentBits(TensorDType dtype) => dtype == TensorDType.F16 ? 5 : 8;

    /// <summary>Bits of sign + mantissa: 8 (BF16), 11 (F16), 24 (F32).</summary>
    public static int RestBits(TensorDType dtype) => dtype switch
    {
        TensorDType.BF16 => 8,
        TensorDType.F16 => 11,
        TensorDType.F32 => 24,
        _ => throw new UnsupportedModelException($"codecs handle F32, F16 and BF16 tensors, not {dtype}"),
    };

    /// <summary>Reads element <paramref name="i"/> of <paramref name="data"/> as an unsigned integer.</summary>
    public static uint Load(ReadOnlySpan<byte> data, long i, int elementBytes)
    {
        int o = (int)(i * elementBytes);
        return elementBytes switch
        {
            2 => (uint)(data[o] | data[o + 1] << 8),
            4 => (uint)(data[o] | data[o + 1] << 8 | data[o + 2] << 16 | data[o + 3] << 24),
            _ => throw new ArgumentOutOfRangeException(nameof(elementBytes)),
        };
    }

    /// <summary>Writes element <paramref name="i"/> of <paramref name="data"/>.</summary>
    public static void Store(Span<byte> data, long i, int elementBytes, uint v)
    {
        int o = (int)(i * elementBytes);
        data[o] = (byte)v;
        data[o + 1] = (byte)(v >> 8);
        if (elementBytes == 4)
        {
            data[o + 2] = (byte)(v >> 16);
            data[o + 3] = (byte)(v >> 24);
        }
    }

    public static byte Exponent(TensorDType dtype, uint v) => dtype switch
    {
        TensorDType.BF16 => (byte)(v >> 7),
        TensorDType.F16 => (byte)((v >> 10) & 0x1F),
        _ => (byte)(v >> 23),
    };

    public static uint Rest(TensorDType dtype, uint v) => dtype switch
    {
        TensorDType.BF16 => ((v >> 8) & 0x80) | (v & 0x7F),
        TensorDType.F16 => ((v >> 15) << 10) | (v & 0x3FF),
        _ => ((v >> 31) << 23) | (v & 0x7FFFFF),
    };

    public static uint Join(TensorDType dtype, byte exponent, uint rest) => dtype switch
    {
        TensorDType.BF16 => ((rest & 0x80) << 8) | ((uint)exponent << 7) | (rest & 0x7F),
        TensorDType.F16 => ((rest >> 10 & 1) << 15) | ((uint)(exponent & 0x1F) << 10) | (rest & 0x3FF),
        _ => ((rest >> 23 & 1) << 31) | ((uint)exponent << 23) | (rest & 0x7FFFFF),
    };

    /// <summary>Splits every element into an exponent plane (one byte each) and a rest plane (RestBytes each, LE).</summary>
    public static void Split(ReadOnlySpan<byte> data, TensorDType dtype, Span<byte> exponents, Span<byte> rest)
    {
        int eb = dtype.ByteSize(), rb = RestBytes(dtype);
        long n = data.Length / eb;
        for (long i = 0; i < n; i++)
        {
            uint v = Load(data, i, eb);
            exponents[(int)i] = Exponent(dtype, v);
            uint r = Rest(dtype, v);
            int o = (int)(i * rb);
            rest[o] = (byte)r;
            if (rb > 1) rest[o + 1] = (byte)(r >> 8);
            if (rb > 2) rest[o + 2] = (byte)(r >> 16);
        }
    }

    /// <summary>Reads the rest value of element <paramref name="i"/> from a rest plane.</summary>
    public static uint LoadRest(ReadOnlySpan<byte> rest, long i, int restBytes)
    {
        int o = (int)(i * restBytes);
        return restBytes switch
        {
            1 => rest[o],
            2 => (uint)(rest[o] | rest[o + 1] << 8),
            _ => (uint)(rest[o] | rest[o + 1] << 8 | rest[o + 2] << 16),
        };
    }

    public static void StoreRest(Span<byte> rest, long i, int restBytes, uint r)
    {
        int o = (int)(i * restBytes);
        rest[o] = (byte)r;
        if (restBytes > 1) rest[o + 1] = (byte)(r >> 8);
        if (restBytes > 2) rest[o + 2] = (byte)(r >> 16);
    }

    /// <summary>Checks that the dtype is one the codecs handle and that the data length matches the layout.</summary>
    public static void CheckInput(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        RestBytes(layout.DType);
        if (data.Length != layout.ByteLength)
            throw new ArgumentException($"{data.Length} bytes given for a tensor of {layout.ByteLength}");
    }
}
