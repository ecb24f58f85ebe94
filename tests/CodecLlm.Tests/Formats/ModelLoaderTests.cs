using CodecLlm.Formats;
using CodecLlm.Formats.Gguf;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

public class ModelLoaderTests
{
    [Fact]
    public void MissingPath()
    {
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load("/nonexistent/model.gguf"));
        Assert.Equal("/nonexistent/model.gguf: model not found", e.Message);
    }

    [Fact]
    public void UnrecognisedFileAndDirectory()
    {
        string dir = TestPaths.NewTempDir();
        Assert.Contains("unrecognised model format", Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(dir)).Message);
        string file = Path.Combine(dir, "notes.txt");
        File.WriteAllText(file, "hello");
        Assert.Contains("unrecognised model format", Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(file)).Message);
    }

    [Fact]
    public void DispatchByContent()
    {
        Assert.IsType<GgufFormat>(ModelLoader.FormatOf(TestPaths.Stories260KGguf));
        // a GGUF under another name is still GGUF
        string dir = TestPaths.NewTempDir();
        string renamed = Path.Combine(dir, "model.bin");
        File.Copy(TestPaths.Stories260KGguf, renamed);
        Assert.IsType<GgufFormat>(ModelLoader.FormatOf(renamed));

        using (LoadedModel m = HfDirectoryTests.Stories260K()) HfDirectoryWriter.Write(m, Path.Combine(dir, "hf"));
        Assert.IsType<HuggingFaceFormat>(ModelLoader.FormatOf(Path.Combine(dir, "hf")));
        Assert.False(new GgufFormat().CanLoad(Path.Combine(dir, "hf")));
        Assert.False(new HuggingFaceFormat().CanLoad(renamed));
    }

    [Fact]
    public void FormatsAreListedInOrder()
    {
        string[] names = ModelLoader.Formats.Select(f => f.Name).ToArray();
        Assert.Equal(names.Distinct(), names);
        Assert.True(Array.IndexOf(names, "gguf") < Array.IndexOf(names, "hf"));
    }
}
