using CodecLlm.Codecs;
using CodecLlm.Model;
using CsCheck;

namespace CodecLlm.Tests.Codecs;

/// <summary>Decode(Encode(x)) == x, bit for bit, for every codec, dtype, shape and kind of data.</summary>
public class CodecRoundTripTests
{
    /// <summary>Every codec configuration under test, including small lane streams so that tests cross group boundaries.</summary>
    public static readonly string[] Specs =
        ["raw", "zstd:grouping=none", "zstd:grouping=bytes", "entropy", "entropy:lane_symbols=3,max_code_length=8", "fixed"];

    public static TheoryData<string> SpecData() => new(Specs);

    private static readonly TensorDType[] DTypes = [TensorDType.BF16, TensorDType.F16, TensorDType.F32];

    private static readonly Gen<long[]> Shapes = Gen.OneOf(
        Gen.Const(Array.Empty<long>()),
        Gen.Int[0, 700].Select(n => new long[] { n }),
        Gen.Select(Gen.Int[0, 13], Gen.Int[0, 600], (r, c) => new long[] { r, c }),
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 70], (a, b, c) => new long[] { a, b, c }),
        Pick(new long[] { 1, 1 }, new long[] { 4, 256 }, new long[] { 5, 257 }, new long[] { 3, 172 }, new long[] { 0, 7 }));

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static void AssertRoundTrip(IWeightCodec codec, TensorDType dt, long[] shape, byte[] data)
    {
        TensorLayout layout = new(dt, shape);
        EncodedTensor enc = codec.Encode(data, layout);
        byte[] back = new byte[data.Length];
        CodecRegistry.Get(codec.Name).Decode(enc.Blob, layout, enc.Params, back, "t");
        Assert.True(data.AsSpan().SequenceEqual(back), $"{codec.Name} {dt} [{string.Join(",", shape)}] does not round-trip");
    }

    [Theory]
    [MemberData(nameof(SpecData))]
    public void RoundTripsGeneratedTensors(string spec)
    {
        IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
        Gen.Select(Pick(DTypes), Shapes, Gen.Enum<BitMode>(), Gen.Int)
            .Sample(x =>
            {
                (TensorDType dt, long[] shape, BitMode mode, int seed) = x;
                long n = new TensorLayout(dt, shape).ElementCount;
                AssertRoundTrip(codec, dt, shape, TensorData.Make(dt, n, mode, seed));
            }, iter: 150);
    }

    [Theory]
    [MemberData(nameof(SpecData))]
    public void RoundTripsEvery16BitPattern(string spec)
    {
        IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
        byte[] all = TensorData.All16BitPatterns();
        AssertRoundTrip(codec, TensorDType.BF16, [256, 256], all);
        AssertRoundTrip(codec, TensorDType.F16, [256, 256], all);
        AssertRoundTrip(codec, TensorDType.BF16, [65536], all);
    }

    [Theory]
    [MemberData(nameof(SpecData))]
    public void RoundTripsEveryF32ExponentWithSpecials(string spec)
    {
        IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
        // Every exponent × both signs × a few mantissas (0, 1, max, random) plus the specials.
        List<uint> values = [.. TensorData.Specials(TensorDType.F32)];
        for (uint e = 0; e < 256; e++)
            foreach (uint s in new uint[] { 0, 1 })
                foreach (uint m in new uint[] { 0, 1, 0x7FFFFF, 0x2A5A5A })
                    values.Add(s << 31 | e << 23 | m);
        byte[] data = values.SelectMany(BitConverter.GetBytes).ToArray();
        AssertRoundTrip(codec, TensorDType.F32, [values.Count], data);
        AssertRoundTrip(codec, TensorDType.F32, [values.Count / 3, 3], data.AsSpan(0, values.Count / 3 * 3 * 4).ToArray());
    }

    [Theory]
    [InlineData("entropy")]
    [InlineData("fixed")]
    [InlineData("zstd:grouping=bytes")]
    public void RoundTripsAcrossLaneGroupsAndTiles(string spec)
    {
        // Larger than one entropy group (32 x 1024) and many fixed tiles, with a narrow last tile.
        IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
        foreach (TensorDType dt in DTypes)
            AssertRoundTrip(codec, dt, [131, 777], TensorData.Make(dt, 131 * 777, BitMode.Gaussian, 7));
    }

    [Fact]
    public void CreateEncoderRejectsUnknownNamesAndParameters()
    {
        Assert.Throws<UnsupportedModelException>(() => CodecRegistry.CreateEncoder("lz4"));
        Assert.Throws<UnsupportedModelException>(() => CodecRegistry.CreateEncoder("zstd:grouping=bits"));
        Assert.Throws<UnsupportedModelException>(() => CodecRegistry.CreateEncoder("fixed:level=3"));
        Assert.Throws<UnsupportedModelException>(() => CodecRegistry.CreateEncoder("entropy:lane_symbols=x"));
    }

    [Fact]
    public void SpecListsKeepEachSpecsParameters()
    {
        Assert.Equal(["fixed", "entropy"], CodecRegistry.SplitSpecs("fixed, entropy"));
        Assert.Equal(["fixed", "entropy:lane_symbols=512,max_code_length=10", "zstd:level=9"],
            CodecRegistry.SplitSpecs("fixed,entropy:lane_symbols=512,max_code_length=10,zstd:level=9"));
        Assert.Throws<UnsupportedModelException>(() => CodecRegistry.SplitSpecs("fixed,level=3"));
    }

    [Fact]
    public void U8TensorsAreRejected()
    {
        foreach (string name in new[] { "zstd", "entropy", "fixed" })
            Assert.Throws<UnsupportedModelException>(() => CodecRegistry.Get(name).Encode(new byte[4], new TensorLayout(TensorDType.U8, [4])));
    }
}
