namespace CodecLlm.Codecs;

/// <summary>
/// Length-limited canonical Huffman codes over byte symbols (0..255), as the <c>entropy</c> codec uses them.
/// Lengths come from the package-merge algorithm (optimal under the length cap); codes are assigned
/// canonically as in DEFLATE (RFC 1951 §3.2.2): by increasing length, then increasing symbol.
/// </summary>
public static class HuffmanCode
{
    /// <summary>
    /// Optimal code lengths for <paramref name="frequencies"/> (256 entries) with no code longer than
    /// <paramref name="maxLength"/>. Absent symbols get 0; a single present symbol gets length 1.
    /// </summary>
    public static byte[] BuildLengths(ReadOnlySpan<long> frequencies, int maxLength)
    {
        byte[] lengths = new byte[256];
        List<int> present = [];
        for (int s = 0; s < 256; s++)
            if (frequencies[s] > 0) present.Add(s);
        if (present.Count == 0) return lengths;
        if (present.Count == 1)
        {
            lengths[present[0]] = 1;
            return lengths;
        }
        if (present.Count > 1 << maxLength) throw new ArgumentException($"{present.Count} symbols cannot be coded in {maxLength} bits");

        // Package-merge: each item is (weight, the leaves it contains). After maxLength - 1 rounds of
        // "pair adjacent items into packages, merge with the leaves", the first 2n - 2 items hold every
        // leaf as many times as its code length.
        long[] frequenciesCopy = frequencies.ToArray();
        List<(long Weight, int[] Leaves)> leaves = present
            .OrderBy(s => frequenciesCopy[s]).ThenBy(s => s)
            .Select(s => (frequenciesCopy[s], new[] { s }))
            .ToList();
        List<(long Weight, int[] Leaves)> current = leaves;
        for (int round = 1; round < maxLength; round++)
        {
            List<(long, int[])> packages = [];
            for (int i = 0; i + 1 < current.Count; i += 2)
                packages.Add((current[i].Weight + current[i + 1].Weight, [.. current[i].Leaves, .. current[i + 1].Leaves]));
            current = Merge(leaves, packages);
        }
        for (int i = 0; i < 2 * present.Count - 2; i++)
            foreach (int s in current[i].Leaves) lengths[s]++;
        return lengths;
    }

    private static List<(long Weight, int[] Leaves)> Merge(List<(long Weight, int[] Leaves)> a, List<(long Weight, int[] Leaves)> b)
    {
        List<(long, int[])> result = new(a.Count + b.Count);
        int i = 0, j = 0;
        while (i < a.Count || j < b.Count)
        {
            if (j >= b.Count || (i < a.Count && a[i].Weight <= b[j].Weight)) result.Add(a[i++]);
            else result.Add(b[j++]);
        }
        return result;
    }

    /// <summary>Canonical codes (right-aligned in the low <c>length</c> bits) for the given lengths.</summary>
    public static uint[] CanonicalCodes(ReadOnlySpan<byte> lengths)
    {
        uint[] codes = new uint[256];
        uint code = 0;
        int previousLength = 0;
        for (int len = 1; len <= 32; len++)
        {
            for (int s = 0; s < 256; s++)
            {
                if (lengths[s] != len) continue;
                code <<= len - previousLength;
                previousLength = len;
                codes[s] = code++;
            }
        }
        return codes;
    }

    /// <summary>
    /// The decode table: 2^maxLength entries indexed by the next maxLength bits of the stream (first bit
    /// most significant); entry = symbol | (length &lt;&lt; 8), or 0 where no code matches.
    /// Returns null when the lengths are not a valid prefix code (Kraft sum over 1, or a length over the cap).
    /// </summary>
    public static ushort[]? BuildDecodeTable(ReadOnlySpan<byte> lengths, int maxLength)
    {
        long kraft = 0;
        for (int s = 0; s < 256; s++)
        {
            if (lengths[s] > maxLength) return null;
            if (lengths[s] > 0) kraft += 1L << (maxLength - lengths[s]);
        }
        if (kraft > 1L << maxLength) return null;
        uint[] codes = CanonicalCodes(lengths);
        ushort[] table = new ushort[1 << maxLength];
        for (int s = 0; s < 256; s++)
        {
            int len = lengths[s];
            if (len == 0) continue;
            int first = (int)(codes[s] << (maxLength - len));
            int count = 1 << (maxLength - len);
            table.AsSpan(first, count).Fill((ushort)(s | len << 8));
        }
        return table;
    }
}
