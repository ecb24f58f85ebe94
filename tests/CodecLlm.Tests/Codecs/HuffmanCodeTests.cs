using CodecLlm.Codecs;

namespace CodecLlm.Tests.Codecs;

public class HuffmanCodeTests
{
    private static long[] Freq(params (int Symbol, long Count)[] items)
    {
        long[] f = new long[256];
        foreach ((int s, long c) in items) f[s] = c;
        return f;
    }

    [Fact]
    public void DyadicFrequenciesGiveTheirExactLengths()
    {
        // p = 1/2, 1/4, 1/8, 1/8 → lengths 1, 2, 3, 3 (hand computation).
        byte[] len = HuffmanCode.BuildLengths(Freq((10, 8), (20, 4), (30, 2), (40, 2)), 11);
        Assert.Equal([1, 2, 3, 3], new[] { len[10], len[20], len[30], len[40] });
        Assert.Equal(4, len.Count(l => l > 0));
    }

    [Fact]
    public void CanonicalCodesFollowDeflate()
    {
        // RFC 1951 §3.2.2 example: lengths (3,3,3,3,3,2,4,4) for A..H → F=00, A=010 .. E=110, G=1110, H=1111.
        byte[] lengths = new byte[256];
        byte[] l = [3, 3, 3, 3, 3, 2, 4, 4];
        for (int i = 0; i < 8; i++) lengths[i] = l[i];
        uint[] codes = HuffmanCode.CanonicalCodes(lengths);
        Assert.Equal([2u, 3u, 4u, 5u, 6u, 0u, 14u, 15u], codes.Take(8).ToArray());
    }

    [Fact]
    public void LengthCapIsRespectedAndStillOptimalUnderIt()
    {
        // Fibonacci frequencies make an unrestricted Huffman tree as deep as possible (lengths 1..n-1).
        long[] f = new long[256];
        long a = 1, b = 1;
        for (int s = 0; s < 20; s++)
        {
            f[s] = a;
            (a, b) = (b, a + b);
        }
        byte[] unlimited = HuffmanCode.BuildLengths(f, 15);
        Assert.Equal(15, unlimited.Max());
        byte[] capped = HuffmanCode.BuildLengths(f, 8);
        Assert.Equal(8, capped.Max());
        double kraft = capped.Where(x => x > 0).Sum(x => Math.Pow(2, -x));
        Assert.Equal(1.0, kraft, 12);
        // Under the cap the cost cannot beat the unrestricted optimum.
        long Cost(byte[] lengths) => Enumerable.Range(0, 256).Sum(s => f[s] * lengths[s]);
        Assert.True(Cost(capped) >= Cost(HuffmanCode.BuildLengths(f, 20)));
    }

    [Fact]
    public void SingleSymbolGetsLengthOne()
    {
        byte[] len = HuffmanCode.BuildLengths(Freq((77, 1000)), 11);
        Assert.Equal(1, len[77]);
        Assert.Equal(1, len.Count(l => l > 0));
    }

    [Fact]
    public void DecodeTableRejectsOverfullCodes()
    {
        byte[] lengths = new byte[256];
        lengths[0] = lengths[1] = lengths[2] = 1;
        Assert.Null(HuffmanCode.BuildDecodeTable(lengths, 11));
        lengths[2] = 12;
        Assert.Null(HuffmanCode.BuildDecodeTable(lengths, 11));
    }
}
