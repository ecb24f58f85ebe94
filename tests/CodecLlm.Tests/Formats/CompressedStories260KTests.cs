using CodecLlm.Backends.Cpu;
using CodecLlm.Cli.Commands;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>stories260K compressed with each codec: loads through ModelLoader with bit-identical tensors and generates llama2.c's reference text.</summary>
public class CompressedStories260KTests
{

    [Theory]
    [InlineData("raw")]
    [InlineData("zstd")]
    [InlineData("entropy")]
    [InlineData("fixed")]
    public async Task CompressedStories260KIsBitIdenticalAndGeneratesTheReferenceText(string codec)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "stories260K." + codec + ".codecllm.safetensors");
            Assert.Equal(0, CompressCommand.Run(TestPaths.Stories260KBin, path, codec, "all", null, TestContext.Current.CancellationToken));

            using LoadedModel original = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
            using LoadedModel compressed = ModelLoader.Load(path);
            Assert.Equal("codecllm", compressed.Format);
            Assert.Equal(original.Config.HiddenSize, compressed.Config.HiddenSize);
            Assert.Equal(original.Config.RopeStyle, compressed.Config.RopeStyle);
            Assert.Equal(original.Tensors.Keys.Order(), compressed.Tensors.Keys.Order());
            foreach ((string name, ModelTensor t) in original.Tensors)
            {
                ModelTensor c = compressed.Tensors[name];
                Assert.Equal(t.Shape, c.Shape);
                Assert.Equal(codec == "raw" || t.Shape.Length < 2 ? "raw" : codec, c.Codec);
                Assert.True(t.DecodeToArray().AsSpan().SequenceEqual(c.DecodeToArray()), $"{codec}: tensor {name} differs");
            }

            using IInferenceSession session = new CpuBackend().CreateSession(compressed, new SessionOptions());
            GenerationResult result = new();
            GenerationOptions options = new() { MaxTokens = 256, Sampling = new SamplingOptions { Temperature = 0 } };
            await foreach (GeneratedToken _ in Generator.GenerateAsync(session, compressed.RequireTokenizer(), "", options, TestContext.Current.CancellationToken, result)) { }
            Assert.Equal(TestPaths.Stories260KGreedyReference(), result.Text);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
