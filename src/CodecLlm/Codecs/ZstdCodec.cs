using System.Buffers.Binary;
using System.Globalization;
using CodecLlm.Model;
using ZstdSharp;

namespace CodecLlm.Codecs;

/// <summary>
/// <c>zstd</c>: general-purpose Zstandard compression (CPU only; decoded once at load). With
/// grouping "bytes" the tensor is first split into planes (the exponent byte of every element, then each
/// byte of sign+mantissa; see <see cref="FloatFields"/>), each compressed as its own frame; with
/// "none" the raw bytes form one frame. Layout: docs/FORMAT.md, section "zstd".
/// </summary>
public sealed class ZstdCodec : IWeightCodec
{
    public const ushort Version = 1;
    public static readonly uint Magic = BlobHeader.Magic("CLZS");

    public ZstdCodec(string grouping = "bytes", int level = 3)
    {
        if (grouping is not ("none" or "bytes")) throw new UnsupportedModelException($"zstd grouping '{grouping}' is not one of: none, bytes");
        Grouping = grouping;
        Level = level;
    }

    public string Name => "zstd";

    public bool HasGpuDecoder => false;

    /// <summary>"none" or "bytes".</summary>
    public string Grouping { get; }

    public int Level { get; }

    public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        FloatFields.CheckInput(data, layout);
        List<byte[]> planes = [];
        if (Grouping == "none")
        {
            planes.Add(data.ToArray());
        }
        else
        {
            int rb = FloatFields.RestBytes(layout.DType);
            long n = layout.ElementCount;
            byte[] exps = new byte[n];
            byte[] rest = new byte[n * rb];
            FloatFields.Split(data, layout.DType, exps, rest);
            planes.Add(exps);
            for (int k = 0; k < rb; k++)
            {
                byte[] plane = new byte[n];
                for (long i = 0; i < n; i++) plane[i] = rest[i * rb + k];
                planes.Add(plane);
            }
        }

        using Compressor compressor = new(Level);
        List<byte[]> frames = planes.Select(p => compressor.Wrap(p).ToArray()).ToList();
        int headerBytes = 16 + 16 * planes.Count;
        byte[] blob = new byte[headerBytes + frames.Sum(f => (long)f.Length)];
        Span<byte> h = blob;
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        h[6] = (byte)layout.DType;
        h[7] = (byte)(Grouping == "none" ? 0 : 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)planes.Count);
        int pos = headerBytes;
        for (int p = 0; p < planes.Count; p++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(h[(16 + 16 * p)..], (ulong)frames[p].Length);
            BinaryPrimitives.WriteUInt64LittleEndian(h[(24 + 16 * p)..], (ulong)planes[p].Length);
            frames[p].CopyTo(blob, pos);
            pos += frames[p].Length;
        }
        return new EncodedTensor(blob, new Dictionary<string, string>
        {
            ["grouping"] = Grouping,
            ["level"] = Level.ToString(CultureInfo.InvariantCulture),
        });
    }

    public void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
    {
        BlobHeader.CheckStart(blob, Magic, Version, Name, layout, 16, tensorName);
        int grouping = blob[7];
        uint planeCount = BinaryPrimitives.ReadUInt32LittleEndian(blob[8..]);
        int rb = FloatFields.RestBytes(layout.DType);
        long n = layout.ElementCount;
        uint expectedPlanes = grouping == 0 ? 1u : (uint)(1 + rb);
        BlobHeader.Require(grouping <= 1 && planeCount == expectedPlanes, tensorName, $"zstd blob has grouping {grouping} with {planeCount} planes");
        BlobHeader.Require(destination.Length == layout.ByteLength, tensorName, "destination size does not match the tensor");
        BlobHeader.Require(blob.Length >= 16 + 16 * planeCount, tensorName, "zstd blob truncated in its plane table");
        ulong pos = 16 + 16UL * planeCount;
        using Decompressor decompressor = new();
        byte[]? exps = null;
        byte[][] restPlanes = new byte[rb][];
        for (int p = 0; p < planeCount; p++)
        {
            ulong frameLength = BinaryPrimitives.ReadUInt64LittleEndian(blob[(16 + 16 * p)..]);
            ulong rawLength = BinaryPrimitives.ReadUInt64LittleEndian(blob[(24 + 16 * p)..]);
            ulong expected = grouping == 0 ? (ulong)layout.ByteLength : (ulong)n;
            BlobHeader.Require(rawLength == expected, tensorName, $"zstd plane {p} holds {rawLength} bytes, expected {expected}");
            ReadOnlySpan<byte> frame = BlobHeader.Section(blob, pos, frameLength, $"zstd frame {p}", tensorName);
            pos += frameLength;
            Span<byte> target = grouping == 0 ? destination : (p == 0 ? (exps = new byte[n]) : (restPlanes[p - 1] = new byte[n]));
            int got;
            try
            {
                got = decompressor.Unwrap(frame, target);
            }
            catch (ZstdException e)
            {
                throw new CorruptTensorException(tensorName, $"zstd frame {p} does not decode: {e.Message}");
            }
            BlobHeader.Require((ulong)got == rawLength, tensorName, $"zstd frame {p} decodes to {got} bytes, expected {rawLength}");
        }
        BlobHeader.Require(pos == (ulong)blob.Length, tensorName, $"zstd blob has {(ulong)blob.Length - pos} trailing bytes");
        if (grouping == 0) return;
        TensorDType dt = layout.DType;
        int eb = dt.ByteSize();
        for (long i = 0; i < n; i++)
        {
            uint r = restPlanes[0][i];
            if (rb > 1) r |= (uint)restPlanes[1][i] << 8;
            if (rb > 2) r |= (uint)restPlanes[2][i] << 16;
            FloatFields.Store(destination, i, eb, FloatFields.Join(dt, exps![i], r));
        }
    }
}
