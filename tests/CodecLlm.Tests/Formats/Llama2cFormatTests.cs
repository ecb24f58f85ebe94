using System.Buffers.Binary;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

public class Llama2cFormatTests
{
    private static readonly Llama2cFormat Format = new();

    [Fact]
    public void Stories260K_ConfigFromTheHeader()
    {
        // Published facts (PROVENANCE.md, stories260K.md): dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads,
        // vocab 512 (shared classifier), seq_len 512.
        using LoadedModel m = Format.Load(TestPaths.Stories260KBin, new ModelLoadOptions { TokenizerPath = null });
        ModelConfig c = m.Config;
        Assert.Equal((64, 172, 5, 8, 4, 512, 512), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.VocabSize, c.MaxSequenceLength));
        Assert.True(c.TiedEmbeddings);
        Assert.Equal(RopeStyle.Interleaved, c.RopeStyle);
        Assert.Equal(8, c.HeadDim);
        Assert.Equal("llama2c", m.Format);
        Assert.Equal(1 + 5 * 9 + 1, m.Tensors.Count);
        Assert.DoesNotContain(TensorNames.LmHead, m.Tensors.Keys);
    }

    [Fact]
    public void Stories260K_TensorsAreTheFileBytesInLlama2cOrder()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Stories260KBin);
        using LoadedModel m = Format.Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        // Offsets by hand: after the 28-byte header come embedding (512·64), rms_att (5·64), wq (5·64·64) ...
        long embedding = 28, rmsAtt = embedding + 512 * 64 * 4, wq = rmsAtt + 5 * 64 * 4, wk = wq + 5 * 64 * 64 * 4;
        long wv = wk + 5 * 32 * 64 * 4, wo = wv + 5 * 32 * 64 * 4, rmsFfn = wo + 5 * 64 * 64 * 4, w1 = rmsFfn + 5 * 64 * 4;
        long w2 = w1 + 5 * 172 * 64 * 4, w3 = w2 + 5 * 64 * 172 * 4, rmsFinal = w3 + 5 * 172 * 64 * 4;
        Assert.Equal(file.Length, rmsFinal + 64 * 4 + 2 * 512 * 8 / 2 * 4);
        (string Name, long Offset, int Length)[] expected =
        [
            (TensorNames.Embedding, embedding, 512 * 64 * 4),
            (TensorNames.AttnNorm(0), rmsAtt, 64 * 4),
            (TensorNames.Q(1), wq + 64 * 64 * 4, 64 * 64 * 4),
            (TensorNames.K(4), wk + 4 * 32 * 64 * 4, 32 * 64 * 4),
            (TensorNames.V(2), wv + 2 * 32 * 64 * 4, 32 * 64 * 4),
            (TensorNames.O(3), wo + 3 * 64 * 64 * 4, 64 * 64 * 4),
            (TensorNames.MlpNorm(4), rmsFfn + 4 * 64 * 4, 64 * 4),
            (TensorNames.Gate(0), w1, 172 * 64 * 4),
            (TensorNames.Down(1), w2 + 64 * 172 * 4, 64 * 172 * 4),
            (TensorNames.Up(2), w3 + 2 * 172 * 64 * 4, 172 * 64 * 4),
            (TensorNames.FinalNorm, rmsFinal, 64 * 4),
        ];
        foreach ((string name, long offset, int length) in expected)
        {
            ModelTensor t = m.GetTensor(name);
            Assert.Equal(TensorDType.F32, t.DType);
            Assert.True(file.AsSpan((int)offset, length).SequenceEqual(t.StoredBytes), name);
        }
        Assert.Equal([172L, 64L], m.GetTensor(TensorNames.Gate(0)).Shape);
        Assert.Equal([64L, 172L], m.GetTensor(TensorNames.Down(0)).Shape);
        Assert.Equal([32L, 64L], m.GetTensor(TensorNames.K(0)).Shape);
    }

    [Fact]
    public void SeparateClassifier_IsMappedAsLmHead()
    {
        // A tiny hand-made checkpoint with negative vocab_size: its last vocab·dim floats are wcls.
        int dim = 4, hidden = 6, layers = 1, heads = 2, kvHeads = 1, vocab = 3, seq = 2;
        int headSize = dim / heads, kvDim = kvHeads * headSize;
        int floats = vocab * dim + layers * (dim + dim * dim + 2 * dim * kvDim + dim * dim + dim + 3 * dim * hidden) + dim + seq * headSize + vocab * dim;
        string path = WriteCheckpoint([dim, hidden, layers, heads, kvHeads, -vocab, seq], floats);
        using LoadedModel m = Format.Load(path, new ModelLoadOptions());
        Assert.False(m.Config.TiedEmbeddings);
        ModelTensor head = m.GetTensor(TensorNames.LmHead);
        Assert.Equal([3L, 4L], head.Shape);
        Assert.Equal(28 + (floats - vocab * dim) * 4L, head.Offset);
        Assert.Equal((float)(floats - vocab * dim), BitConverter.ToSingle(head.StoredBytes)); // floats are numbered 0, 1, 2 ...
    }

    [Fact]
    public void TruncatedFile_IsAModelFormatError()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Stories260KBin);
        string path = Path.Combine(TestPaths.NewTempDir(), "truncated.bin");
        File.WriteAllBytes(path, file.AsSpan(0, file.Length - 4).ToArray());
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Format.Load(path, new ModelLoadOptions()));
        Assert.Contains("truncated.bin", e.Message);
        Assert.Contains($"needs {file.Length}", e.Message);
    }

    [Fact]
    public void HeaderClaimingMoreLayers_IsAModelFormatError()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Stories260KBin);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), 6); // n_layers 5 → 6
        string path = Path.Combine(TestPaths.NewTempDir(), "more-layers.bin");
        File.WriteAllBytes(path, file);
        Assert.Throws<ModelFormatException>(() => Format.Load(path, new ModelLoadOptions()));
    }

    [Fact]
    public void FileShorterThanHeader_IsAModelFormatError()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "short.bin");
        File.WriteAllBytes(path, new byte[10]);
        Assert.Throws<ModelFormatException>(() => Format.Load(path, new ModelLoadOptions()));
    }

    [Fact]
    public void VersionedExport_IsUnsupported()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "v1.bin");
        byte[] bytes = new byte[256];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x616b3432);
        File.WriteAllBytes(path, bytes);
        Assert.True(Format.CanLoad(path));
        Assert.Throws<UnsupportedModelException>(() => Format.Load(path, new ModelLoadOptions()));
    }

    [Fact]
    public void CanLoad_RecognisesCheckpointsOnly()
    {
        Assert.True(Format.CanLoad(TestPaths.Stories260KBin));
        Assert.False(Format.CanLoad(TestPaths.Stories260KTokenizer)); // a tokenizer.bin: implausible header
        Assert.False(Format.CanLoad(TestPaths.Stories260KGguf));
        Assert.False(Format.CanLoad(Path.Combine(TestPaths.SharedModels, "missing.bin")));
    }

    private static string WriteCheckpoint(int[] header, int floats)
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "tiny.bin");
        byte[] bytes = new byte[28 + floats * 4];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        for (int i = 0; i < floats; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(28 + i * 4), i);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
