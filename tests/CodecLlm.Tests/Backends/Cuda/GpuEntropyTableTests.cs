using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The GPU decode table (no GPU needed): walking every lane stream of an entropy blob with it as the kernels do — the
/// bit position advanced by each entry's low 5 bits, its one to three symbols (bits 6..7) written to the lane's next
/// elements, the lane's last entry's symbols past its stream dropped — gives back the original weights, and most
/// entries of a Gaussian tensor hold more than one symbol; a corrupt code-length set is refused.
/// </summary>
public class GpuEntropyTableTests
{
    [Theory]
    [InlineData(64, 2048, 1024, 11)]
    [InlineData(37, 1000, 48, 11)]
    [InlineData(5, 300, 7, 8)]
    [InlineData(16, 512, 1024, 15)]
    public void TableDecodesEveryLaneStream(int rows, int cols, int k, int maxLen)
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
        int lookups = 0;
        for (int s = 0; s < (n + groupSize - 1) / groupSize * 32; s++)
        {
            int g = s / 32, t = s % 32;
            ulong pos = offsets[s];
            int end = Math.Min(n, (g + 1) * groupSize);
            for (int idx = g * groupSize + t; idx < end;)
            {
                int w = (int)(pos >> 5);
                ulong bits = ((ulong)words[w] << 32 | words[w + 1]) << (int)(pos & 31);
                uint ent = table[(int)(bits >> (64 - maxLen))];
                Assert.NotEqual(0u, ent);
                Assert.Equal(0u, ent & 32);
                pos += ent & 31;
                lookups++;
                for (int j = 0; j < (ent >> 6 & 3) && idx < end; j++, idx += 32)
                {
                    uint r = blob[192 + idx];
                    decoded[idx] = (ushort)(((r & 0x80) << 8) | ((ent >> (8 + 8 * j) & 0xFF) << 7) | (r & 0x7F));
                }
            }
        }
        Assert.Equal(data, decoded);
        Assert.True(lookups < n * 2 / 3, $"{lookups} lookups for {n} symbols");
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
