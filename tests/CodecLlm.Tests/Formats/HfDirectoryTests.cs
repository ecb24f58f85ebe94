using CodecLlm.Formats.Gguf;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>stories260K written as a Hugging Face directory by <see cref="HfDirectoryWriter"/> and read back.</summary>
public class HfDirectoryTests
{
    /// <summary>stories260K from its GGUF, without a tokenizer (the HF tests do not need one).</summary>
    internal static LoadedModel Stories260K()
    {
        GgufFile f = GgufFile.Open(TestPaths.Stories260KGguf);
        GgufModelContents m = GgufModelReader.Read(f);
        return new LoadedModel(f.Path, "gguf", m.Config, m.Tensors, null, [f]);
    }

    [Fact]
    public void PermuteMatchesTheHandComputedTorchResult()
    {
        // torch: w.view(1, 2, 2, 1).transpose(1, 2).reshape(4, 1) on rows [r0, r1, r2, r3] gives [r0, r2, r1, r3];
        // with 2 heads of 4 the same happens inside each head.
        byte[] rows = [0, 1, 2, 3, 4, 5, 6, 7];
        Assert.Equal([0, 2, 1, 3, 4, 6, 5, 7], HfDirectoryWriter.PermuteForHf(rows, heads: 2, headDim: 4, rowBytes: 1));
        // head size 6: rows (i, j) = 2i + j go to j*3 + i: [r0, r2, r4, r1, r3, r5]
        Assert.Equal([0, 2, 4, 1, 3, 5], HfDirectoryWriter.PermuteForHf([0, 1, 2, 3, 4, 5], heads: 1, headDim: 6, rowBytes: 1));
        // whole rows move together
        Assert.Equal([0, 1, 4, 5, 2, 3, 6, 7], HfDirectoryWriter.PermuteForHf(rows, heads: 1, headDim: 4, rowBytes: 2));
    }

    /// <summary>The inverse of HF's permute, written directly: row j*(hd/2)+i of a head goes back to row 2i+j.</summary>
    private static byte[] Unpermute(ReadOnlySpan<byte> hf, int heads, int headDim, int rowBytes)
    {
        byte[] meta = new byte[hf.Length];
        for (int h = 0; h < heads; h++)
            for (int r = 0; r < headDim; r++)
            {
                int j = r / (headDim / 2), i = r % (headDim / 2);
                hf.Slice((h * headDim + r) * rowBytes, rowBytes).CopyTo(meta.AsSpan((h * headDim + 2 * i + j) * rowBytes));
            }
        return meta;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrittenDirectoryReadsBackToTheOriginalBytes(bool sharded)
    {
        using LoadedModel source = Stories260K();
        string dir = TestPaths.NewTempDir();
        HfDirectoryWriter.Write(source, dir, sharded);
        Assert.Equal(sharded, File.Exists(Path.Combine(dir, HfWeights.IndexFile)));
        Assert.Equal(!sharded, File.Exists(Path.Combine(dir, HfWeights.SingleFile)));
        Assert.True(new HuggingFaceFormat().CanLoad(dir));

        ModelConfig c = HfConfigReader.Read(dir);
        Assert.Equal(source.Config with { RopeStyle = RopeStyle.HalfSplit }, c with { EosTokenIds = source.Config.EosTokenIds });
        Assert.Equal(source.Config.EosTokenIds, c.EosTokenIds);

        (Dictionary<string, ModelTensor> tensors, List<SafetensorsFile> files) = HfWeights.Open(dir, c);
        try
        {
            Assert.Equal(sharded ? 2 : 1, files.Count);
            Assert.Equal(source.Tensors.Keys.Order(), tensors.Keys.Order());
            int qPermuted = 0;
            foreach ((string name, ModelTensor t) in tensors)
            {
                byte[] original = source.Tensors[name].DecodeToArray();
                int rowBytes = (int)(t.ByteLength / t.Shape[0]);
                byte[] back = name.Contains("q_proj", StringComparison.Ordinal) ? Unpermute(t.StoredBytes, c.NumHeads, c.HeadDim, rowBytes)
                    : name.Contains("k_proj", StringComparison.Ordinal) ? Unpermute(t.StoredBytes, c.NumKvHeads, c.HeadDim, rowBytes)
                    : t.StoredBytes.ToArray();
                Assert.True(back.AsSpan().SequenceEqual(original), name);
                if (name.Contains("q_proj", StringComparison.Ordinal) && !t.StoredBytes.SequenceEqual(original)) qPermuted++;
            }
            Assert.Equal(5, qPermuted); // the permutation really moved rows
        }
        finally
        {
            foreach (SafetensorsFile f in files) f.Dispose();
        }
    }
}
