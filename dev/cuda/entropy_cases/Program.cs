// Writes the entropy_emul case files into the folder given as the argument:
//   dotnet run -c Release --project dev/cuda/entropy_cases -- /tmp/entcases
// A case file: u64 rows, u64 cols, u64 blob bytes, the u16 (BF16) weights, the blob (EntropyCodec.Encode).
using System.Runtime.InteropServices;
using CodecLlm.Codecs;
using CodecLlm.Model;

string dir = args.Length > 0 ? args[0] : throw new ArgumentException("usage: entropy_cases OUTPUT_DIR");
Directory.CreateDirectory(dir);
// (rows, cols, K, max code length, uniform): N(0, 0.02) weights with 2 % random bit patterns (rare exponents,
// long codes), or uniformly random bit patterns (8-bit codes: the most refills per chunk). The last case puts long codes
// together: one exponent in most weights, 200 others (8-9-bit codes) filling the first two groups, whose lanes read
// 8-9 bits a symbol -- a pair never fits there, so every step is a single symbol (the decoder's window bound assumes
// the cap, 15 bits a symbol, which a real tensor's frequencies cannot give a whole chunk).
var cases = new (int Rows, int Cols, int K, int L, bool Uniform)[]
{
    (64, 1024, 1024, 8, true), (40, 1000, 1024, 15, true), (40, 1000, 64, 15, true), (64, 2048, 1024, 11, false),
    (300, 1500, 1024, 11, false), (1, 5, 1024, 11, false), (37, 1000, 48, 11, false), (37, 1000, 7, 11, false),
    (1024, 2048, 1024, 15, false), (3, 700, 1024, 11, false), (33, 1024, 1024, 11, false), (100, 32768, 1024, 15, false),
};
for (int ci = 0; ci < cases.Length; ci++)
{
    var (rows, cols, k, maxLen, uniform) = cases[ci];
    var rnd = new Random(ci + 1);
    int n = rows * cols;
    var w = new ushort[n];
    for (int i = 0; i < n; i++)
    {
        double u1 = 1 - rnd.NextDouble(), u2 = rnd.NextDouble();
        float f = (float)(0.02 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        w[i] = uniform ? (ushort)rnd.Next(65536) : (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16);
    }
    for (int i = 0; i < n / 50; i++) w[rnd.Next(n)] = (ushort)rnd.Next(65536);
    if (ci == cases.Length - 1)
        for (int i = 0; i < n; i++)
            w[i] = (ushort)(i < 2 * 32 * k ? (20 + rnd.Next(200)) << 7 | rnd.Next(128) : 120 << 7 | rnd.Next(128));
    byte[] raw = MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
    byte[] blob = new EntropyCodec(k, maxLen).Encode(raw, new TensorLayout(TensorDType.BF16, [rows, cols])).Blob;
    using var file = File.Create(Path.Combine(dir, $"case{ci:D2}.bin"));
    var bw = new BinaryWriter(file);
    bw.Write((ulong)rows);
    bw.Write((ulong)cols);
    bw.Write((ulong)blob.Length);
    bw.Write(raw);
    bw.Write(blob);
}
Console.WriteLine($"{cases.Length} cases in {dir}");
