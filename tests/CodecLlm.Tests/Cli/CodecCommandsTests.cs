using System.Text.Json;
using CodecLlm.Cli;
using CodecLlm.Cli.Commands;
using CodecLlm.Formats.Compressed;
using CodecLlm.Formats.Safetensors;

namespace CodecLlm.Tests.Cli;

/// <summary>compress / inspect / verify on real weights (arctic-embed-xs, a plain safetensors file: storage compression).</summary>
public class CodecCommandsTests
{
    [Theory]
    [InlineData("fixed", 11.30)]
    [InlineData("entropy", 10.75)]
    public void CompressInspectVerifyArctic(string codec, double maxBits)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string output = Path.Combine(dir, "arctic.codecllm.safetensors");
            Assert.Equal(0, CompressCommand.Run(TestPaths.ArcticBf16, output, codec, "all", null, CancellationToken.None));

            StringWriter json = new();
            Assert.Equal(0, InspectCommand.Run(output, true, json, CancellationToken.None));
            using JsonDocument doc = JsonDocument.Parse(json.ToString());
            JsonElement totals = doc.RootElement.GetProperty("totals");
            long original = new FileInfo(TestPaths.ArcticBf16).Length;
            // 22,565,376 BF16 weights = 45,130,752 bytes (PROVENANCE.md: 22.6 M weights); the file adds a header.
            Assert.Equal(45_130_752, totals.GetProperty("original_bytes").GetInt64());
            Assert.True(totals.GetProperty("original_bytes").GetInt64() < original);
            double bits = totals.GetProperty("bits_per_weight").GetDouble();
            Assert.InRange(bits, 10.61, maxBits);
            JsonElement[] tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
            Assert.Equal(101, tensors.Length);
            Assert.All(tensors.Where(t => t.GetProperty("shape").GetArrayLength() == 1), t => Assert.Equal("raw", t.GetProperty("codec").GetString()));
            Assert.All(tensors.Where(t => t.GetProperty("shape").GetArrayLength() == 2), t => Assert.Equal(codec, t.GetProperty("codec").GetString()));

            StringWriter verify = new();
            Assert.Equal(0, VerifyCommand.Run(output, TestPaths.ArcticBf16, verify, CancellationToken.None));
            Assert.StartsWith("ok: 101 tensors", verify.ToString());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task VerifyFailsWithExitCode1OnACorruptFileAndNamesTheTensor()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string output = Path.Combine(dir, "a.safetensors");
            Assert.Equal(0, CompressCommand.Run(TestPaths.ArcticBf16, output, "zstd", "onnx::MatMul_7*", null, CancellationToken.None));
            using (CompressedModelFile f = CompressedModelFile.Open(output))
            {
                Assert.Contains(f.TensorInfos, i => i.Codec == "zstd");
                Assert.All(f.TensorInfos.Where(i => i.Codec == "zstd"), i => Assert.StartsWith("onnx::MatMul_7", i.Name));
            }
            long at;
            using (SafetensorsFile sf = SafetensorsFile.Open(output))
                at = sf.DataStart + sf.Entries[^1].Begin + 10;
            byte[] bytes = File.ReadAllBytes(output);
            bytes[at] ^= 1;
            File.WriteAllBytes(output, bytes);
            Assert.Equal(1, await CliApp.RunAsync(["verify", output]));
            Assert.Equal(1, await CliApp.RunAsync(["compress", TestPaths.ArcticBf16, "-o", Path.Combine(dir, "b"), "--tensors", "no_such_tensor"]));
            Assert.Equal(1, await CliApp.RunAsync(["compress", TestPaths.ArcticBf16, "-o", Path.Combine(dir, "b"), "--codec", "lz4"]));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
