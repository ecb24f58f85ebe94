using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>Broken Hugging Face directories fail with the specific exception, naming the file or tensor.</summary>
public class HfMalformedTests
{
    private static string WriteStories(bool sharded)
    {
        using LoadedModel m = HfDirectoryTests.Stories260K();
        string dir = TestPaths.NewTempDir();
        HfDirectoryWriter.Write(m, dir, sharded);
        return dir;
    }

    private static void Open(string dir)
    {
        ModelConfig c = HfConfigReader.Read(dir);
        (_, var files) = HfWeights.Open(dir, c);
        foreach (var f in files) f.Dispose();
    }

    [Fact]
    public void MissingShard()
    {
        string dir = WriteStories(sharded: true);
        File.Delete(Path.Combine(dir, "model-00002-of-00002.safetensors"));
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Open(dir));
        Assert.Contains("shard 'model-00002-of-00002.safetensors'", e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        string dir = WriteStories(sharded: false);
        // Claim 6 layers: the weights only hold 5.
        string cfgPath = Path.Combine(dir, "config.json");
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 6", StringComparison.Ordinal));
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Open(dir));
        Assert.EndsWith("tensor 'model.layers.5.input_layernorm.weight' is missing", e.Message);
    }

    [Fact]
    public void WrongShapeIsNamed()
    {
        string dir = WriteStories(sharded: false);
        string cfgPath = Path.Combine(dir, "config.json");
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("\"intermediate_size\": 172", "\"intermediate_size\": 170", StringComparison.Ordinal));
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Open(dir));
        Assert.Contains("'model.layers.0.mlp.gate_proj.weight' has shape [172, 64], expected [170, 64]", e.Message);
    }

    [Fact]
    public void IndexNamingATensorItsShardLacks()
    {
        string dir = WriteStories(sharded: true);
        string idx = Path.Combine(dir, HfWeights.IndexFile);
        File.WriteAllText(idx, File.ReadAllText(idx).Replace("\"model.norm.weight\": \"model-00002-of-00002.safetensors\"",
            "\"model.norm.weight\": \"model-00001-of-00002.safetensors\"", StringComparison.Ordinal));
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Open(dir));
        Assert.Contains("'model.norm.weight' is not in its shard", e.Message);
    }

    [Fact]
    public void TruncatedSafetensors()
    {
        string dir = WriteStories(sharded: false);
        string st = Path.Combine(dir, HfWeights.SingleFile);
        byte[] bytes = File.ReadAllBytes(st);
        File.WriteAllBytes(st, bytes[..(bytes.Length / 2)]);
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Open(dir));
        Assert.Contains("beyond the end of the file", e.Message);
    }

    [Fact]
    public void UnknownArchitectureThroughTheFormat()
    {
        string dir = WriteStories(sharded: false);
        string cfgPath = Path.Combine(dir, "config.json");
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("LlamaForCausalLM", "GemmaForCausalLM", StringComparison.Ordinal));
        UnsupportedModelException e = Assert.Throws<UnsupportedModelException>(() => new HuggingFaceFormat().Load(dir, new()));
        Assert.Contains("'GemmaForCausalLM'", e.Message);
    }
}
