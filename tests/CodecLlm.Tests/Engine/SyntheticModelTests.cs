using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Tests.Engine;

public class SyntheticModelTests
{
    [Fact]
    public void SameSeedSameBytes_OtherSeedOtherBytes()
    {
        using LoadedModel a = SyntheticModel.Create("stories260k", TensorDType.BF16, seed: 1);
        using LoadedModel b = SyntheticModel.Create("stories260k", TensorDType.BF16, seed: 1);
        using LoadedModel c = SyntheticModel.Create("stories260k", TensorDType.BF16, seed: 2);
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        foreach (ModelTensor t in a.Tensors.Values)
            Assert.True(t.StoredBytes.SequenceEqual(b.GetTensor(t.Name).StoredBytes), t.Name);
        Assert.False(a.GetTensor(TensorNames.Q(0)).StoredBytes.SequenceEqual(c.GetTensor(TensorNames.Q(0)).StoredBytes));
    }

    [Fact]
    public void Shapes_FollowTheConfig_AndValuesHaveTheStatedScale()
    {
        using LoadedModel m = SyntheticModel.Create("stories260k", TensorDType.F32, seed: 4);
        Assert.Equal(1 + 5 * 9 + 1, m.Tensors.Count); // tied head: no lm_head
        Assert.Equal([172L, 64L], m.GetTensor(TensorNames.Gate(3)).Shape);
        Assert.Equal([32L, 64L], m.GetTensor(TensorNames.K(0)).Shape);

        float[] emb = CodecLlm.Backends.Cpu.RowConversion.As<float>(m.GetTensor(TensorNames.Embedding).StoredBytes).ToArray();
        double mean = emb.Average(), std = Math.Sqrt(emb.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.0196, 0.0204); // 32768 samples of N(0, 0.02²)
        Assert.InRange(emb.Count(v => Math.Abs(v) > 0.04) / (double)emb.Length, 0.040, 0.051); // P(|z| > 2) = 0.0455

        float[] norm = CodecLlm.Backends.Cpu.RowConversion.As<float>(m.GetTensor(TensorNames.FinalNorm).StoredBytes).ToArray();
        Assert.InRange(norm.Average(), 0.99, 1.01);
    }

    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)] // 1.0 exact
    [InlineData(0x3F808000u, (ushort)0x3F80)] // halfway, even below: stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway, odd below: rounds up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // above halfway: up
    [InlineData(0xBF7FFFFFu, (ushort)0xBF80)] // carries into the exponent
    public void ToBf16_RoundsToNearestEven(uint bits, ushort expected) =>
        Assert.Equal(expected, SyntheticModel.ToBf16(BitConverter.UInt32BitsToSingle(bits)));

    [Fact]
    public void UnknownPreset_IsAnError() =>
        Assert.Throws<UnsupportedModelException>(() => SyntheticModel.Create("gpt-5", TensorDType.BF16, 1));
}
