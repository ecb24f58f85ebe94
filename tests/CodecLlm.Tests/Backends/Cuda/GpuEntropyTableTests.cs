using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The GPU decode table (no GPU needed): walking every lane stream of an entropy blob with it as the kernels do gives
/// back the original weights, both one symbol a lookup (entry &gt;&gt; 24: F16/F32 kernels, partial chunks) and as the
/// BF16 kernel walks full chunks of 32 symbols a lane (two symbols a lookup where the entry holds a pair and the lane
/// has room for two; the 64-bit buffer shifted by the entry's low 5 bits); a corrupt code-length set is refused.
/// </summary>
public class GpuEntropyTableTests
{
    [Theory]
    [InlineData(64, 2048, 1024, 11, true)]
    [InlineData(64, 2048, 1024, 11, false)]
    [InlineData(37, 1000, 48, 11, true)]
    [InlineData(5, 300, 7, 8, true)]
    [InlineData(5, 300, 7, 8, false)]
    [InlineData(16, 512, 1024, 15, true)]
    public void TableDecodesEveryLaneStream(int rows, int cols, int k, int maxLen, bool pairs)
    {
        var rnd = new Random(rows + cols + k);
        ushort[] data = GpuTest.Gaussian(rnd, rows * cols, 0.02).Select(GpuTest.ToBf16).ToArray();
        for (int i = 0; i < data.Length / 30; i++) data[rnd.Next(data.Length)] = (ushort)rnd.Next(65536);
        byte[] blob = new EntropyCodec(k, maxLen).Encode(MemoryMarshal.AsBytes(data.AsSpan()), new TensorLayout(TensorDType.BF16, [rows, cols])).Blob;
        uint[] table = GpuDecoders.EntropyTable(blob, "w");
        Assert.Equal(1 << maxLen, table.Length);

        int n = data.Length, groupSize = 32 * k;
        ReadOnlySpan<uint> offsets = MemoryMarshal.Cast<byte, uint>(blob.AsSpan((int)BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(40))));
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(blob.AsSpan((int)BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(48))));
        var decoded = new ushort[n];
        int pairsTaken = 0;
        for (int s = 0; s < (n + groupSize - 1) / groupSize * 32; s++)
        {
            int g = s / 32, t = s % 32;
            uint pos = offsets[s];
            int w = (int)(pos >> 5);
            ulong buf = (ulong)words[w] << 32 | words[w + 1];
            w += 2;
            buf <<= (int)(pos & 31);
            int avail = 64 - (int)(pos & 31);
            int end = Math.Min(n, (g + 1) * groupSize), symbols = (end - g * groupSize - t + 31) / 32;
            // Symbol i of the lane is element g·32K + 32i + t; a chunk is 32 symbols, pairs only inside a full chunk.
            for (int i = 0; i < symbols;)
            {
                uint ent = table[(int)(buf >> (64 - maxLen))];
                Assert.NotEqual(0u, ent);
                bool fullChunk = (end - g * groupSize) / 1024 * 32 > i;
                bool two = pairs && (int)ent < 0 && fullChunk && i % 32 < 31;
                int sh = (int)(two ? ent : ent >> 24) & 31;
                buf <<= sh;
                avail -= sh;
                if (avail <= 32)
                {
                    buf |= (ulong)words[w++] << (32 - avail);
                    avail += 32;
                }
                Put(i++, ent >> 8);
                if (two)
                {
                    Put(i++, ent >> 16);
                    pairsTaken++;
                }
            }

            void Put(int i, uint e)
            {
                int idx = g * groupSize + 32 * i + t;
                uint r = blob[192 + idx];
                decoded[idx] = (ushort)(((r & 0x80) << 8) | ((e & 0xFF) << 7) | (r & 0x7F));
            }
        }
        Assert.Equal(data, decoded);
        if (pairs && groupSize >= 1024) Assert.True(pairsTaken > n / 4, $"{pairsTaken} pairs in {n} symbols");
    }

    [Fact]
    public void OversubscribedCodeLengthsAreRefused()
    {
        byte[] blob = new EntropyCodec().Encode(new byte[64], new TensorLayout(TensorDType.BF16, [32])).Blob;
        blob[64] = 0x11; // symbols 0 and 1 of length 1 ...
        blob[65] = 0x01; // ... and symbol 2 too: three codes of one bit
        Assert.Throws<CorruptTensorException>(() => GpuDecoders.EntropyTable(blob, "w"));
    }
}
