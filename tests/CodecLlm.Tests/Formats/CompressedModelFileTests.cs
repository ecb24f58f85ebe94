using System.Buffers.Binary;
using System.Text;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Compressed;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CodecLlm.Tests.Codecs;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Formats;

public unsafe class CompressedModelFileTests
{
    // The stories260K shape, with the optional fields set so the file's config round trip covers them.
    private static readonly ModelConfig Config = SyntheticModel.Preset("stories260k") with
    {
        RopeScaling = new RopeScaling("llama3", 8f, 1f, 4f, 8192),
        SlidingWindow = 48,
        SlidingLayers = [false, true, false, true, true],
        EosTokenIds = [2, 7],
    };

    private static (string Dir, string Path, Dictionary<string, byte[]> Originals) WriteSample(string codec, bool withConfig = true)
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "m.codecllm.safetensors");
        Dictionary<string, byte[]> originals = new()
        {
            ["model.layers.0.self_attn.q_proj.weight"] = TensorData.Make(TensorDType.BF16, 64 * 64, BitMode.Gaussian, 1),
            ["model.layers.0.mlp.down_proj.weight"] = TensorData.Make(TensorDType.F32, 64 * 172, BitMode.Gaussian, 2),
            ["model.norm.weight"] = TensorData.Make(TensorDType.F16, 64, BitMode.Random, 3),
        };
        CompressedModelWriter w = new()
        {
            Config = withConfig ? Config : null,
            Tokenizer = new TokenizerSource("llama2c-bin", new Dictionary<string, byte[]> { ["tokenizer.bin"] = Encoding.UTF8.GetBytes("vocab bytes") }),
            ChatTemplate = "{{ messages }}",
        };
        IWeightCodec c = CodecRegistry.Get(codec);
        w.Add("model.layers.0.self_attn.q_proj.weight", TensorDType.BF16, [64, 64], () => originals["model.layers.0.self_attn.q_proj.weight"], c);
        w.Add("model.layers.0.mlp.down_proj.weight", TensorDType.F32, [64, 172], () => originals["model.layers.0.mlp.down_proj.weight"], c);
        w.Add("model.norm.weight", TensorDType.F16, [64], () => originals["model.norm.weight"], CodecRegistry.Get("raw"));
        w.Write(path);
        return (dir, path, originals);
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("zstd")]
    [InlineData("entropy")]
    [InlineData("fixed")]
    public void WriteThenOpenGivesBitIdenticalTensorsAndMetadata(string codec)
    {
        (string dir, string path, Dictionary<string, byte[]> originals) = WriteSample(codec);
        try
        {
            using CompressedModelFile f = CompressedModelFile.Open(path);
            Assert.NotNull(f.Config);
            ModelConfig c = f.Config!;
            Assert.Equal((64, 172, 5, 8, 4, 512, 8, 512), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.VocabSize, c.HeadDim, c.MaxSequenceLength));
            Assert.Equal((RopeStyle.Interleaved, true, "llama"), (c.RopeStyle, c.TiedEmbeddings, c.Architecture));
            Assert.Equal(Config.RopeScaling, c.RopeScaling);
            Assert.Equal(48, c.SlidingWindow);
            Assert.Equal(new[] { 0, 48, 0, 48, 48 }, Enumerable.Range(0, c.NumLayers).Select(c.AttentionWindow).ToArray());
            Assert.Equal([2, 7], c.EosTokenIds);
            Assert.Equal("llama2c-bin", f.Tokenizer!.Kind);
            Assert.Equal("vocab bytes", Encoding.UTF8.GetString(f.Tokenizer.Files["tokenizer.bin"]));
            Assert.Equal("{{ messages }}", f.ChatTemplate);
            Assert.Equal(3, f.Tensors.Count);
            foreach ((string name, byte[] original) in originals)
            {
                Assert.Equal(original, f.VerifyTensor(name));
                Assert.Equal(0, (f.Tensors[name].StoredPointer - f.File.Pointer) % 64);
            }
            Assert.Equal(codec, f.Tensors["model.layers.0.self_attn.q_proj.weight"].Codec);
            Assert.Equal("raw", f.Tensors["model.norm.weight"].Codec);
            Assert.True(CompressedModelFile.IsCompressedModel(path));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FormatRecognisesTheFileWhichIsPlainSafetensorsOfU8Blobs()
    {
        (string dir, string path, Dictionary<string, byte[]> originals) = WriteSample("fixed");
        try
        {
            CompressedModelFormat format = new();
            Assert.True(format.CanLoad(path));
            Assert.False(format.CanLoad(TestPaths.ArcticBf16));
            using SafetensorsFile raw = SafetensorsFile.Open(path);
            Assert.Equal("codecllm", raw.Metadata["format"]);
            Assert.All(raw.Entries, e => Assert.Equal("U8", e.DType));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void StorageOnlyFileOpensButDoesNotLoadAsModel()
    {
        (string dir, string path, _) = WriteSample("entropy", withConfig: false);
        try
        {
            using (CompressedModelFile f = CompressedModelFile.Open(path)) Assert.Null(f.Config);
            Assert.Throws<UnsupportedModelException>(() => new CompressedModelFormat().Load(path, new ModelLoadOptions()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FlippedBlobByteFailsCrcNamingTheTensor()
    {
        (string dir, string path, _) = WriteSample("entropy");
        try
        {
            long at;
            using (SafetensorsFile sf = SafetensorsFile.Open(path))
            {
                SafetensorsEntry e = sf.Entries.Single(x => x.Name == "model.layers.0.mlp.down_proj.weight");
                at = sf.DataStart + e.Begin + e.Length / 2;
            }
            byte[] bytes = File.ReadAllBytes(path);
            bytes[at] ^= 0x10;
            File.WriteAllBytes(path, bytes);
            CorruptTensorException ex = Assert.Throws<CorruptTensorException>(() => CompressedModelFile.Open(path));
            Assert.Equal("model.layers.0.mlp.down_proj.weight", ex.TensorName);
            Assert.Contains("CRC", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void WrongOriginalHashIsReportedByVerify()
    {
        (string dir, string path, _) = WriteSample("zstd");
        try
        {
            // Rewrite the header with a different xxhash64 for one tensor (header length unchanged).
            byte[] bytes = File.ReadAllBytes(path);
            string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes));
            using (CompressedModelFile f = CompressedModelFile.Open(path))
            {
                string good = f.TensorInfos[0].XxHash64;
                string bad = good[..^1] + (good[^1] == '0' ? '1' : '0');
                Encoding.UTF8.GetBytes(header.Replace(good, bad)).CopyTo(bytes, 8);
            }
            File.WriteAllBytes(path, bytes);
            using CompressedModelFile g = CompressedModelFile.Open(path);
            CorruptTensorException ex = Assert.Throws<CorruptTensorException>(() => g.VerifyTensor(g.TensorInfos[0].Name));
            Assert.Equal(g.TensorInfos[0].Name, ex.TensorName);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TruncatedFileIsAFormatError()
    {
        (string dir, string path, _) = WriteSample("fixed");
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
            ModelFormatException ex = Assert.Throws<ModelFormatException>(() => CompressedModelFile.Open(path));
            Assert.Contains("tensor '", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void UnknownVersionAndCodecAreUnsupported()
    {
        (string dir, string path, _) = WriteSample("fixed");
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            int headerLen = (int)BinaryPrimitives.ReadInt64LittleEndian(bytes);
            string header = Encoding.UTF8.GetString(bytes, 8, headerLen);
            void WriteHeader(string h)
            {
                byte[] copy = (byte[])bytes.Clone();
                byte[] hb = Encoding.UTF8.GetBytes(h);
                Assert.Equal(headerLen, hb.Length);
                hb.CopyTo(copy, 8);
                File.WriteAllBytes(path, copy);
            }
            WriteHeader(header.Replace("\"format_version\":\"1\"", "\"format_version\":\"9\""));
            Assert.Contains("version 9", Assert.Throws<UnsupportedModelException>(() => CompressedModelFile.Open(path)).Message);
            WriteHeader(header.Replace("\\u0022codec\\u0022:\\u0022fixed\\u0022", "\\u0022codec\\u0022:\\u0022fixex\\u0022"));
            UnsupportedModelException ex = Assert.Throws<UnsupportedModelException>(() => CompressedModelFile.Open(path));
            Assert.Contains("fixex", ex.Message);
            Assert.Contains("tensor '", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
