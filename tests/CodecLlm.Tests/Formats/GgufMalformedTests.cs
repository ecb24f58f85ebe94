using System.Buffers.Binary;
using CodecLlm.Formats.Gguf;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>Bad GGUF input fails with the specific exception and a message that names the problem.</summary>
public class GgufMalformedTests
{
    private static string WriteBytes(byte[] bytes)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "bad.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static T OpenAndRead<T>(string path) where T : Exception =>
        Assert.Throws<T>(() =>
        {
            using GgufFile f = GgufFile.Open(path);
            GgufModelReader.Read(f);
        });

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(23)]
    [InlineData(100)]
    [InlineData(5000)]
    public void TruncatedHeader(int length)
    {
        byte[] real = File.ReadAllBytes(TestPaths.Stories260KGguf);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(real[..length]));
        Assert.Contains("truncated", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TruncatedData()
    {
        byte[] real = File.ReadAllBytes(TestPaths.Stories260KGguf);
        string last;
        using (GgufFile whole = GgufFile.Open(TestPaths.Stories260KGguf))
            last = whole.Tensors.MaxBy(t => t.Offset)!.Name;
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(real[..(real.Length - 100)]));
        Assert.Contains("beyond the end of the file", e.Message);
        Assert.Contains($"'{last}'", e.Message);
    }

    [Fact]
    public void WrongMagic()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Stories260KGguf);
        bytes[0] = (byte)'X';
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(bytes));
        Assert.Contains("not a GGUF file", e.Message);
    }

    [Fact]
    public void HeaderClaimsMoreTensorsThanTheFileHolds()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Stories260KGguf);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 1_000_000_000);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(bytes));
        Assert.Contains("tensor count claims 1000000000", e.Message);
    }

    [Fact]
    public void HeaderClaimsOneMoreTensorThanItDescribes()
    {
        string path = SyntheticPath(GgufSyntheticTests.TinyModel("llama"));
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), n + 1);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(bytes));
        Assert.Contains($"tensor #{n} of {n + 1}", e.Message);
    }

    [Fact]
    public void MetadataArrayClaimsMoreElementsThanTheFileHolds()
    {
        byte[] bytes = new GgufTestWriter().Meta("big", new[] { 1, 2, 3 }).ToArray();
        // magic 4 + version 4 + counts 16 + key (8 + 3) + type 4 + element type 4 = 43: the element count
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(43), 1L << 40);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(bytes));
        Assert.Contains("array 'big'", e.Message);
    }

    [Fact]
    public void TensorOffsetPastTheEnd()
    {
        GgufTestWriter w = new GgufTestWriter().Meta("general.architecture", "llama")
            .Tensor("token_embd.weight", [4, 2], 0, new byte[32], offsetOverride: 1 << 20);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(w.ToArray()));
        Assert.Contains("'token_embd.weight'", e.Message);
        Assert.Contains("beyond the end of the file", e.Message);
    }

    [Fact]
    public void MisalignedTensorOffset()
    {
        GgufTestWriter w = new GgufTestWriter().Tensor("token_embd.weight", [4, 2], 0, new byte[64], offsetOverride: 4);
        ModelFormatException e = OpenAndRead<ModelFormatException>(WriteBytes(w.ToArray()));
        Assert.Contains("alignment", e.Message);
    }

    [Fact]
    public void QuantisedTensor()
    {
        const uint q4k = 12;
        string path = SyntheticPath(GgufSyntheticTests.TinyModel("llama", matrixType: q4k));
        UnsupportedModelException e = OpenAndRead<UnsupportedModelException>(path);
        Assert.EndsWith("tensor 'token_embd.weight' has type Q4_K: quantised GGUF tensors are not supported yet", e.Message);
    }

    [Fact]
    public void UnknownArchitecture()
    {
        string path = SyntheticPath(new GgufTestWriter().Meta("general.architecture", "falcon"));
        UnsupportedModelException e = OpenAndRead<UnsupportedModelException>(path);
        Assert.Contains("'falcon'", e.Message);
    }

    [Fact]
    public void UnknownTensor()
    {
        string path = SyntheticPath(GgufSyntheticTests.TinyModel("llama").F32Tensor("blk.0.attn_q_norm.weight", [4], [1, 1, 1, 1]));
        UnsupportedModelException e = OpenAndRead<UnsupportedModelException>(path);
        Assert.Contains("'blk.0.attn_q_norm.weight'", e.Message);
    }

    [Fact]
    public void MissingTensor()
    {
        string path = SyntheticPath(GgufSyntheticTests.TinyModel("llama").Without("blk.0.ffn_up.weight"));
        ModelFormatException e = OpenAndRead<ModelFormatException>(path);
        Assert.Contains("'model.layers.0.mlp.up_proj.weight' is missing", e.Message);
    }

    [Fact]
    public void OldVersionAndBigEndianAreUnsupported()
    {
        byte[] bytes = new GgufTestWriter { Version = 1 }.ToArray();
        Assert.Contains("version 1", OpenAndRead<UnsupportedModelException>(WriteBytes(bytes)).Message);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 3);
        Assert.Contains("big-endian", OpenAndRead<UnsupportedModelException>(WriteBytes(bytes)).Message);
    }

    private static string SyntheticPath(GgufTestWriter w) => GgufSyntheticTests.Write(w);
}
