using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// <c>entropy</c>: the exponent field is coded with a length-limited canonical Huffman code (per tensor),
/// sign and mantissa are stored raw in a separate plane. The exponent bit stream is cut into independent
/// lane streams: a group of 32 lanes covers 32·K consecutive elements, lane t coding elements
/// base + 32·i + t (i = 0..K-1), so a GPU warp decodes a group with coalesced reads and writes.
/// Layout: docs/FORMAT.md, section "entropy".
/// </summary>
public sealed class EntropyCodec : IWeightCodec
{
    public const ushort Version = 1;
    public const int HeaderBytes = 192;
    public const int Lanes = 32;
    public const int DefaultLaneSymbols = 1024;
    public const int DefaultMaxCodeLength = 11;
    public static readonly uint Magic = BlobHeader.Magic("CLEN");

    public EntropyCodec(int laneSymbols = DefaultLaneSymbols, int maxCodeLength = DefaultMaxCodeLength)
    {
        if (laneSymbols < 1) throw new ArgumentOutOfRangeException(nameof(laneSymbols));
        if (maxCodeLength is < 8 or > 15) throw new ArgumentOutOfRangeException(nameof(maxCodeLength), "8..15");
        LaneSymbols = laneSymbols;
        MaxCodeLength = maxCodeLength;
    }

    public string Name => "entropy";

    public bool HasGpuDecoder => false;

    /// <summary>K: elements per lane stream.</summary>
    public int LaneSymbols { get; }

    /// <summary>L: the longest Huffman code (the decode table has 2^L entries).</summary>
    public int MaxCodeLength { get; }

    public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        FloatFields.CheckInput(data, layout);
        TensorDType dt = layout.DType;
        int rb = FloatFields.RestBytes(dt);
        long n = layout.ElementCount;
        byte[] exps = new byte[n];
        byte[] rest = new byte[n * rb];
        FloatFields.Split(data, dt, exps, rest);

        long[] hist = new long[256];
        foreach (byte e in exps) hist[e]++;
        byte[] lengths = HuffmanCode.BuildLengths(hist, MaxCodeLength);
        uint[] codes = HuffmanCode.CanonicalCodes(lengths);

        long groupSize = (long)Lanes * LaneSymbols;
        long groups = (n + groupSize - 1) / groupSize;
        long streams = groups * Lanes;
        if (streams + 1 > int.MaxValue / 4) throw new UnsupportedModelException($"tensor of {n} elements is too large for the entropy codec");
        uint[] offsets = new uint[streams + 1];
        BitWriter writer = new(n * 3 / 32 + 16);
        for (long g = 0; g < groups; g++)
        {
            for (int t = 0; t < Lanes; t++)
            {
                if (writer.BitCount > uint.MaxValue) throw new UnsupportedModelException($"tensor of {n} elements: exponent stream exceeds 2^32 bits");
                offsets[g * Lanes + t] = (uint)writer.BitCount;
                for (long idx = g * groupSize + t; idx < Math.Min(n, (g + 1) * groupSize); idx += Lanes)
                    writer.Write(codes[exps[idx]], lengths[exps[idx]]);
            }
        }
        ulong totalBits = writer.BitCount;
        if (totalBits > uint.MaxValue) throw new UnsupportedModelException($"tensor of {n} elements: exponent stream exceeds 2^32 bits");
        offsets[streams] = (uint)totalBits;
        uint[] words = writer.Finish();

        long restOffset = HeaderBytes;
        long offsetsOffset = BlobHeader.AlignUp(restOffset + rest.Length, 16);
        long streamOffset = BlobHeader.AlignUp(offsetsOffset + offsets.Length * 4L, 16);
        long wordCount = (long)((totalBits + 31) / 32) + 4;
        long total = BlobHeader.AlignUp(streamOffset + wordCount * 4, 16);
        byte[] blob = new byte[total];
        Span<byte> h = blob;
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        h[6] = (byte)dt;
        h[7] = (byte)MaxCodeLength;
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], (ulong)n);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)LaneSymbols);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)streams);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], totalBits);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)restOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], (ulong)offsetsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[48..], (ulong)streamOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[56..], (ulong)total);
        for (int s = 0; s < 256; s += 2) h[64 + s / 2] = (byte)(lengths[s] | lengths[s + 1] << 4);
        rest.CopyTo(blob, restOffset);
        MemoryMarshal.AsBytes(offsets.AsSpan()).CopyTo(h[(int)offsetsOffset..]);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        MemoryMarshal.AsBytes(words.AsSpan()).CopyTo(h[(int)streamOffset..]);
        return new EncodedTensor(blob, new Dictionary<string, string>
        {
            ["lane_symbols"] = LaneSymbols.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["max_code_length"] = MaxCodeLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    public unsafe void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
    {
        TensorDType dt = layout.DType;
        int rb = FloatFields.RestBytes(dt), eb = dt.ByteSize();
        BlobHeader.CheckStart(blob, Magic, Version, Name, layout, HeaderBytes, tensorName);
        int maxLen = blob[7];
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(blob[8..]);
        uint k = BinaryPrimitives.ReadUInt32LittleEndian(blob[16..]);
        uint streams = BinaryPrimitives.ReadUInt32LittleEndian(blob[20..]);
        ulong totalBits = BinaryPrimitives.ReadUInt64LittleEndian(blob[24..]);
        ulong restOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[32..]);
        ulong offsetsOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[40..]);
        ulong streamOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[48..]);
        ulong total = BinaryPrimitives.ReadUInt64LittleEndian(blob[56..]);
        BlobHeader.Require(total == (ulong)blob.Length, tensorName, $"entropy blob is {blob.Length} bytes, its header says {total}: truncated or corrupt");
        BlobHeader.Require(n == (ulong)layout.ElementCount, tensorName, $"entropy blob holds {n} elements, the tensor has {layout.ElementCount}");
        BlobHeader.Require(destination.Length == (long)n * eb, tensorName, "destination size does not match the tensor");
        BlobHeader.Require(maxLen is >= 1 and <= 15 && k >= 1, tensorName, "entropy blob header is corrupt (code length cap or lane size)");
        ulong groupSize = Lanes * (ulong)k;
        ulong groups = (n + groupSize - 1) / groupSize;
        BlobHeader.Require(streams == groups * Lanes, tensorName, $"entropy blob has {streams} streams, expected {groups * Lanes}");
        BlobHeader.Require(totalBits <= uint.MaxValue, tensorName, "entropy blob bit count is corrupt");
        ReadOnlySpan<byte> rest = BlobHeader.Section(blob, restOffset, n * (ulong)rb, "sign/mantissa plane", tensorName);
        ReadOnlySpan<uint> offsets = MemoryMarshal.Cast<byte, uint>(BlobHeader.Section(blob, offsetsOffset, (streams + 1UL) * 4, "stream offsets", tensorName));
        ulong wordCount = (totalBits + 31) / 32 + 4;
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(BlobHeader.Section(blob, streamOffset, wordCount * 4, "exponent bit stream", tensorName));
        BlobHeader.Require(offsets[0] == 0 && offsets[(int)streams] == totalBits, tensorName, "entropy stream offsets are corrupt");
        for (int s = 0; s < streams; s++)
            BlobHeader.Require(offsets[s] <= offsets[s + 1], tensorName, $"entropy stream offset {s} is corrupt");

        Span<byte> lengths = stackalloc byte[256];
        for (int s = 0; s < 256; s += 2)
        {
            lengths[s] = (byte)(blob[64 + s / 2] & 15);
            lengths[s + 1] = (byte)(blob[64 + s / 2] >> 4);
        }
        ushort[] table = HuffmanCode.BuildDecodeTable(lengths, maxLen)
            ?? throw new CorruptTensorException(tensorName, "entropy blob's Huffman code lengths are not a valid prefix code");

        fixed (byte* pRest = rest)
        fixed (uint* pOffsets = offsets)
        fixed (uint* pWords = words)
        fixed (byte* pDst = destination)
        {
            GroupDecoder dec = new(pRest, pOffsets, pWords, (long)wordCount, pDst, table, maxLen, (long)n, (int)k, dt, rb, eb);
            string? bad = null;
            if (n >= 1 << 20 && groups > 1)
                Parallel.For(0L, (long)groups, g => { string? e = dec.DecodeGroup(g); if (e != null) bad ??= e; });
            else
                for (long g = 0; g < (long)groups && bad == null; g++) bad = dec.DecodeGroup(g);
            if (bad != null) throw new CorruptTensorException(tensorName, bad);
        }
    }

    /// <summary>Decodes one group of 32 lane streams; returns an error message or null.</summary>
    private readonly unsafe struct GroupDecoder(byte* rest, uint* offsets, uint* words, long wordCount, byte* dst, ushort[] table,
        int maxLen, long n, int k, TensorDType dt, int rb, int eb)
    {
        public string? DecodeGroup(long g)
        {
            long groupSize = (long)Lanes * k;
            long end = Math.Min(n, (g + 1) * groupSize);
            for (int t = 0; t < Lanes; t++)
            {
                long s = g * Lanes + t;
                ulong pos = offsets[s];
                long w = (long)(pos >> 5);
                ulong buf = (ulong)Word(w) << 32 | Word(w + 1);
                w += 2;
                int skip = (int)(pos & 31);
                buf <<= skip;
                int avail = 64 - skip;
                ulong consumed = 0;
                for (long idx = g * groupSize + t; idx < end; idx += Lanes)
                {
                    ushort entry = table[(int)(buf >> (64 - maxLen))];
                    if (entry == 0) return $"entropy stream {s} holds an invalid code";
                    int len = entry >> 8;
                    buf <<= len;
                    avail -= len;
                    consumed += (ulong)len;
                    if (avail <= 32)
                    {
                        buf |= (ulong)Word(w++) << (32 - avail);
                        avail += 32;
                    }
                    byte e = (byte)entry;
                    if (dt == TensorDType.BF16)
                    {
                        uint r = rest[idx];
                        ((ushort*)dst)[idx] = (ushort)(((r & 0x80) << 8) | ((uint)e << 7) | (r & 0x7F));
                    }
                    else
                    {
                        uint r = rb == 2 ? (uint)(rest[idx * 2] | rest[idx * 2 + 1] << 8)
                            : (uint)(rest[idx * 3] | rest[idx * 3 + 1] << 8 | rest[idx * 3 + 2] << 16);
                        uint v = FloatFields.Join(dt, e, r);
                        if (eb == 2) ((ushort*)dst)[idx] = (ushort)v;
                        else ((uint*)dst)[idx] = v;
                    }
                }
                if (consumed != offsets[s + 1] - (ulong)offsets[s]) return $"entropy stream {s} decodes to {consumed} bits, its offsets say {offsets[s + 1] - offsets[s]}";
            }
            return null;
        }

        private uint Word(long i) => i < wordCount ? words[i] : 0;
    }

    /// <summary>Packs codes most-significant-bit first into little-endian 32-bit words.</summary>
    private sealed class BitWriter(long capacityWords)
    {
        private uint[] _words = new uint[Math.Max(capacityWords, 4)];
        private long _count;
        private ulong _acc;
        private int _bits;

        public ulong BitCount => (ulong)_count * 32 + (ulong)_bits;

        public void Write(uint code, int length)
        {
            _acc = _acc << length | code;
            _bits += length;
            if (_bits >= 32)
            {
                _bits -= 32;
                Push((uint)(_acc >> _bits));
            }
        }

        public uint[] Finish()
        {
            if (_bits > 0) Push((uint)(_acc << (32 - _bits)));
            _bits = 0;
            return _words.AsSpan(0, (int)_count).ToArray();
        }

        private void Push(uint w)
        {
            if (_count == _words.Length) Array.Resize(ref _words, checked(_words.Length * 2));
            _words[_count++] = w;
        }
    }
}
