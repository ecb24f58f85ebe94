using CodecLlm.Formats;
using CodecLlm.Formats.Gguf;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;
using CodecLlm.Tokenization;

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

    /// <summary>
    /// A safetensors file that no format takes: cut inside its header (a truncated .codecllm download), the error says
    /// truncated; whole but without codecllm metadata, it says so.
    /// </summary>
    [Fact]
    public void SafetensorsFilesNoFormatTakesGetTheirOwnError()
    {
        string dir = TestPaths.NewTempDir();
        byte[] json = System.Text.Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
        byte[] whole = [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[8]];
        string plain = Path.Combine(dir, "plain.safetensors"), cut = Path.Combine(dir, "cut.codecllm.safetensors");
        File.WriteAllBytes(plain, whole);
        File.WriteAllBytes(cut, whole[..20]);
        Assert.Contains("without codecllm metadata", Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(plain)).Message);
        Assert.Contains($"truncated safetensors file (header claims {json.Length} bytes, file has 20)",
            Assert.Throws<ModelFormatException>(() => ModelLoader.Load(cut)).Message);
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

    [Fact]
    public void Stories260KInEveryFormat()
    {
        using LoadedModel gguf = ModelLoader.Load(TestPaths.Stories260KGguf);
        using LoadedModel bin = ModelLoader.Load(TestPaths.Stories260KBin);
        Assert.Equal("gguf", gguf.Format);
        Assert.Equal("llama2c", bin.Format);

        // The GGUF's own vocabulary and llama2.c's tok512.bin are the same tokenizer.
        ITokenizer fromGguf = gguf.RequireTokenizer();
        ITokenizer fromBin = TokenizerFactory.FromLlama2cFile(TestPaths.Stories260KTokenizer, 512);
        Assert.Equal(512, fromGguf.VocabSize);
        const string text = "Once upon a time, there was a little girl named Lily. She loved to play outside!";
        Assert.Equal(fromBin.Encode(text, addBos: true), fromGguf.Encode(text, addBos: true));

        string dir = TestPaths.NewTempDir();
        HfDirectoryWriter.Write(gguf, dir, sharded: true);
        using (LoadedModel hf = ModelLoader.Load(dir))
        {
            Assert.Equal("hf", hf.Format);
            Assert.Null(hf.Tokenizer); // the writer writes no tokenizer files
            Assert.Equal(48, hf.Tensors.Count);
        }
        using (LoadedModel hf = ModelLoader.Load(dir, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KGguf }))
            Assert.Equal(fromBin.Encode(text, addBos: true), hf.RequireTokenizer().Encode(text, addBos: true));
        using (LoadedModel hf = ModelLoader.Load(dir, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KTokenizer }))
            Assert.Equal(512, hf.RequireTokenizer().VocabSize);
    }
}
