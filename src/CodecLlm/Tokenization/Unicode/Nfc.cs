using System.Globalization;
using System.Reflection;
using System.Text;

namespace CodecLlm.Tokenization.Unicode;

/// <summary>
/// Unicode Normalization Form C (UAX #15) without ICU: the build runs with invariant globalization, under which
/// <see cref="string.Normalize()"/> leaves text as it is, and Qwen2's <c>tokenizer.json</c> asks for NFC. Canonical
/// decomposition (Hangul algorithmic), canonical ordering by combining class, then canonical composition, over the tables
/// in <c>nfc-data.txt</c> (embedded; written from Python's <c>unicodedata</c> by tools/unicode/gen_nfc_data.py).
/// </summary>
public static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, LCount = 19, VCount = 21, TCount = 28;
    private const int NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Tables.Load);

    /// <summary>The Unicode version of the tables.</summary>
    public static string UnicodeVersion => Data.Value.Version;

    /// <summary>The NFC form of <paramref name="text"/>; the same instance when it is already NFC by the quick check.</summary>
    public static string Normalize(string text)
    {
        // Every code point below U+0300 is NFC_Quick_Check=Yes and a starter that nothing before it composes with.
        int i = 0;
        while (i < text.Length && text[i] < '\u0300') i++;
        if (i == text.Length) return text;

        Tables t = Data.Value;
        var cps = new List<int>(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes()) Decompose(t, r.Value, cps);
        Reorder(t, cps);
        Compose(t, cps);
        var sb = new StringBuilder(text.Length);
        Span<char> utf16 = stackalloc char[2];
        foreach (int cp in cps) sb.Append(utf16[..new Rune(cp).EncodeToUtf16(utf16)]);
        return sb.ToString();
    }

    private static void Decompose(Tables t, int cp, List<int> into)
    {
        int s = cp - SBase;
        if (s >= 0 && s < SCount)
        {
            into.Add(LBase + s / NCount);
            into.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) into.Add(TBase + s % TCount);
        }
        else if (t.Decompositions.TryGetValue(cp, out int[]? seq)) into.AddRange(seq);
        else into.Add(cp);
    }

    // Stable sort of every run of non-starters by combining class.
    private static void Reorder(Tables t, List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int c = t.Class(cps[i]);
            if (c == 0) continue;
            int j = i;
            while (j > 0 && t.Class(cps[j - 1]) > c)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    // UAX #15's composition: each character joins the last starter unless a character between them blocks it.
    private static void Compose(Tables t, List<int> cps)
    {
        if (cps.Count == 0) return;
        int starterPos = 0, starter = cps[0];
        int lastClass = t.Class(starter) == 0 ? 0 : 256;  // a leading non-starter composes with nothing
        int outPos = 1;
        for (int i = 1; i < cps.Count; i++)
        {
            int ch = cps[i], cls = t.Class(ch);
            int composite = (lastClass < cls || lastClass == 0) ? Pair(t, starter, ch) : -1;
            if (composite >= 0)
            {
                cps[starterPos] = starter = composite;
                continue;
            }
            if (cls == 0)
            {
                starterPos = outPos;
                starter = ch;
            }
            lastClass = cls;
            cps[outPos++] = ch;
        }
        cps.RemoveRange(outPos, cps.Count - outPos);
    }

    private static int Pair(Tables t, int a, int b)
    {
        int l = a - LBase, v = b - VBase;
        if (l >= 0 && l < LCount && v >= 0 && v < VCount) return SBase + (l * VCount + v) * TCount;
        int s = a - SBase, tt = b - TBase;
        if (s >= 0 && s < SCount && s % TCount == 0 && tt > 0 && tt < TCount) return a + tt;
        return t.Compositions.TryGetValue(((long)a << 21) | (uint)b, out int c) ? c : -1;
    }

    private sealed class Tables
    {
        public required string Version { get; init; }
        public required Dictionary<int, int[]> Decompositions { get; init; }
        public required Dictionary<int, byte> Classes { get; init; }
        public required Dictionary<long, int> Compositions { get; init; }

        public int Class(int cp) => cp < 0x300 ? 0 : Classes.GetValueOrDefault(cp);

        public static Tables Load()
        {
            using Stream s = Assembly.GetExecutingAssembly().GetManifestResourceStream("CodecLlm.Unicode.nfc-data.txt")
                ?? throw new InvalidOperationException("the embedded Unicode NFC tables are missing");
            using var reader = new StreamReader(s, Encoding.ASCII);
            string version = "";
            var decompositions = new Dictionary<int, int[]>();
            var classes = new Dictionary<int, byte>();
            var compositions = new Dictionary<long, int>();
            static int Hex(string h) => int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            while (reader.ReadLine() is { } line)
            {
                if (line.StartsWith('#'))
                {
                    if (version.Length == 0) version = line.Split(' ')[2];
                    continue;
                }
                string[] f = line.Split(' ');
                switch (f[0])
                {
                    case "D": decompositions[Hex(f[1])] = f[2..].Select(Hex).ToArray(); break;
                    case "C": classes[Hex(f[1])] = byte.Parse(f[2], CultureInfo.InvariantCulture); break;
                    case "P": compositions[((long)Hex(f[1]) << 21) | (uint)Hex(f[2])] = Hex(f[3]); break;
                    default: throw new InvalidDataException($"nfc-data.txt: unknown line '{line}'");
                }
            }
            return new Tables { Version = version, Decompositions = decompositions, Classes = classes, Compositions = compositions };
        }
    }
}
