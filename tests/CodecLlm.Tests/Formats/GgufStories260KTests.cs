using CodecLlm.Formats.Gguf;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Formats;

/// <summary>
/// stories260K.gguf (llama.cpp's test model) against the published facts in PROVENANCE.md and against the
/// same model's llama2.c checkpoint, read independently.
/// </summary>
public class GgufStories260KTests
{
    private static GgufModelContents ReadContents(out GgufFile file)
    {
        file = GgufFile.Open(TestPaths.Stories260KGguf);
        return GgufModelReader.Read(file);
    }

    [Fact]
    public void HeaderAndMetadata()
    {
        using GgufFile f = GgufFile.Open(TestPaths.Stories260KGguf);
        Assert.Equal(3u, f.Version);
        Assert.Equal(48, f.Tensors.Count);
        Assert.Equal(32, f.Alignment);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(0, f.DataStart % 32);
        Assert.All(f.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
    }

    [Fact]
    public void ConfigMatchesProvenance()
    {
        GgufModelContents m = ReadContents(out GgufFile f);
        using (f)
        {
            ModelConfig c = m.Config;
            Assert.Equal("llama", c.Architecture);
            Assert.Equal(64, c.HiddenSize);
            Assert.Equal(172, c.IntermediateSize);
            Assert.Equal(5, c.NumLayers);
            Assert.Equal(8, c.NumHeads);
            Assert.Equal(4, c.NumKvHeads);
            Assert.Equal(512, c.VocabSize);
            Assert.Equal(8, c.HeadDim);
            Assert.Equal(2048, c.MaxSequenceLength); // the converter's default, per PROVENANCE.md
            Assert.Equal(RopeStyle.Interleaved, c.RopeStyle);
            Assert.False(c.TiedEmbeddings); // the converter writes output.weight (a copy of the shared embedding)
            Assert.False(c.AttentionBias);
            Assert.Null(c.RopeScaling);
            Assert.Equal(10000f, c.RopeTheta);
            Assert.Equal(1, c.BosTokenId);
            Assert.Equal([2], c.EosTokenIds);
        }
    }

    [Fact]
    public void TensorNamesAndShapes()
    {
        GgufModelContents m = ReadContents(out GgufFile f);
        using (f)
        {
            // 48 = embedding + final norm + output + 5 layers x 9
            Assert.Equal(48, m.Tensors.Count);
            Assert.Equal([512L, 64], m.Tensors[TensorNames.Embedding].Shape);
            Assert.Equal([512L, 64], m.Tensors[TensorNames.LmHead].Shape);
            Assert.Equal([64L], m.Tensors[TensorNames.FinalNorm].Shape);
            for (int l = 0; l < 5; l++)
            {
                Assert.Equal([64L, 64], m.Tensors[TensorNames.Q(l)].Shape);
                Assert.Equal([32L, 64], m.Tensors[TensorNames.K(l)].Shape);
                Assert.Equal([32L, 64], m.Tensors[TensorNames.V(l)].Shape);
                Assert.Equal([64L, 64], m.Tensors[TensorNames.O(l)].Shape);
                Assert.Equal([172L, 64], m.Tensors[TensorNames.Gate(l)].Shape);
                Assert.Equal([172L, 64], m.Tensors[TensorNames.Up(l)].Shape);
                Assert.Equal([64L, 172], m.Tensors[TensorNames.Down(l)].Shape);
                Assert.Equal([64L], m.Tensors[TensorNames.AttnNorm(l)].Shape);
                Assert.Equal([64L], m.Tensors[TensorNames.MlpNorm(l)].Shape);
            }
            Assert.All(m.Tensors.Values, t => Assert.Equal(TensorDType.F32, t.DType));
        }
    }

    [Fact]
    public void EmbeddingBytesEqualTheLlama2cCheckpoint()
    {
        (Llama2cTestReader.Header h, Dictionary<string, float[]> bin) = Llama2cTestReader.Read(TestPaths.Stories260KBin);
        Assert.Equal(new Llama2cTestReader.Header(64, 172, 5, 8, 4, 512, 512), h);
        GgufModelContents m = ReadContents(out GgufFile f);
        using (f)
        {
            byte[] expected = Llama2cTestReader.Bytes(bin[TensorNames.Embedding]);
            Assert.Equal(32768 * 4, expected.Length);
            Assert.True(m.Tensors[TensorNames.Embedding].StoredBytes.SequenceEqual(expected));
        }
    }

    [Fact]
    public void EveryWeightEqualsTheLlama2cCheckpoint()
    {
        // Both files keep Meta's q/k row order (llama.cpp undoes HF's permutation), so every weight matches.
        (_, Dictionary<string, float[]> bin) = Llama2cTestReader.Read(TestPaths.Stories260KBin);
        GgufModelContents m = ReadContents(out GgufFile f);
        using (f)
        {
            // llama2.c shares the classifier with the embedding; the GGUF stores it again as output.weight.
            bin[TensorNames.LmHead] = bin[TensorNames.Embedding];
            Assert.Equal(bin.Keys.Order(), m.Tensors.Keys.Order());
            foreach ((string name, float[] values) in bin)
                Assert.True(m.Tensors[name].StoredBytes.SequenceEqual(Llama2cTestReader.Bytes(values)), name);
        }
    }

    [Fact]
    public void VocabularyFromMetadata()
    {
        GgufModelContents m = ReadContents(out GgufFile f);
        using (f)
        {
            GgufVocabulary v = Assert.IsType<GgufVocabulary>(m.Vocabulary);
            Assert.Equal("llama", v.Model);
            Assert.Equal(512, v.Tokens.Count);
            Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], v.Tokens.Take(4));
            Assert.Equal(512, v.Scores!.Count);
            Assert.Equal(512, v.TokenTypes!.Count);
            Assert.Equal([2, 3, 3, 6], v.TokenTypes.Take(4)); // unknown, control, control, byte
            Assert.Equal(1, v.BosTokenId);
            Assert.Equal([2], v.EosTokenIds);
            Assert.True(v.AddBos);
        }
    }
}
