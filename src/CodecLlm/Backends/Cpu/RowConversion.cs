using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CodecLlm.Model;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>Widens stored F32/F16/BF16 elements to float32, a row (or a chunk of one) at a time.</summary>
public static class RowConversion
{
    /// <summary>BF16 is the upper half of a float32: widening is a 16-bit left shift, exact for every value.</summary>
    public static float Bf16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Bf16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source");
        int n = source.Length, i = 0;
        fixed (ushort* s = source)
        fixed (float* d = destination)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - 16; i += 16)
                {
                    (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.Load(s + i));
                    Vector256.ShiftLeft(lo, 16).AsSingle().Store(d + i);
                    Vector256.ShiftLeft(hi, 16).AsSingle().Store(d + i + 8);
                }
            }
            for (; i < n; i++) d[i] = Bf16ToSingle(s[i]);
        }
    }

    /// <summary>Converts <paramref name="count"/> elements of <paramref name="dtype"/> at <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static unsafe void ToSingle(byte* source, TensorDType dtype, int count, Span<float> destination)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                new ReadOnlySpan<float>(source, count).CopyTo(destination);
                break;
            case TensorDType.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(source, count), destination);
                break;
            case TensorDType.BF16:
                Bf16ToSingle(new ReadOnlySpan<ushort>(source, count), destination);
                break;
            default:
                throw new UnsupportedModelException($"cannot compute with {dtype} elements (supported: F32, F16, BF16)");
        }
    }

    /// <summary>A whole 1-D tensor (norm weight, bias) as float32.</summary>
    public static unsafe float[] ToSingleArray(ModelTensor tensor)
    {
        float[] result = new float[tensor.ElementCount];
        if (tensor.IsRaw)
        {
            ToSingle(tensor.StoredPointer, tensor.DType, result.Length, result);
            return result;
        }
        byte[] decoded = tensor.DecodeToArray();
        fixed (byte* p = decoded) ToSingle(p, tensor.DType, result.Length, result);
        return result;
    }

    /// <summary>Reinterprets bytes as elements (for tests and references).</summary>
    public static ReadOnlySpan<T> As<T>(ReadOnlySpan<byte> bytes) where T : struct => MemoryMarshal.Cast<byte, T>(bytes);
}
