using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Engine;

/// <summary>The whole engine against llama2.c's published greedy output for stories260K.</summary>
public class Stories260KGenerationTests
{
    /// <summary>The last code block of stories260K.md: `./run stories260K.bin -z tok512.bin -t 0.0` (256 steps).</summary>
    private static string ReferenceText()
    {
        string md = File.ReadAllText(TestPaths.Stories260KMd);
        int start = md.IndexOf("$ ./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "reference command not found in stories260K.md");
        start = md.IndexOf('\n', start) + 1;
        int end = md.IndexOf("\n```", start, StringComparison.Ordinal);
        return md[start..end];
    }

    [Fact]
    public async Task Greedy_EmptyPrompt_ReproducesLlama2cReferenceText()
    {
        string reference = ReferenceText();
        Assert.True(reference.Length > 600);
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession session = new CpuBackend().CreateSession(model, new SessionOptions());
        GenerationOptions options = new() { MaxTokens = 256, Sampling = new SamplingOptions { Temperature = 0 } };
        GenerationResult result = new();
        System.Text.StringBuilder streamed = new();
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, model.RequireTokenizer(), "", options, TestContext.Current.CancellationToken, result))
            streamed.Append(t.Text);

        Assert.Equal(reference, streamed.ToString()); // all 256 steps, not just the first 200 characters
        Assert.Equal(reference, result.Text);
        Assert.Equal(FinishReason.Length, result.Stats!.FinishReason);
        Assert.Equal(1, result.Stats.PromptTokens);
    }

    [Fact]
    public async Task Prompt_ContinuesTheReferenceWhenItIsItsBeginning()
    {
        // Greedy decoding is a function of the prefix: prompting with the reference's first sentence must
        // continue exactly as the reference does (this runs a multi-token prompt through Forward).
        string reference = ReferenceText();
        const string prompt = "Once upon a time, there was a little girl named Lily.";
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession session = new CpuBackend().CreateSession(model, new SessionOptions());
        GenerationResult result = new();
        GenerationOptions options = new() { MaxTokens = 40, Sampling = new SamplingOptions { Temperature = 0 } };
        await foreach (GeneratedToken _ in Generator.GenerateAsync(session, model.RequireTokenizer(), prompt, options, TestContext.Current.CancellationToken, result)) { }
        Assert.True(result.Text.Length > 100);
        Assert.StartsWith(result.Text, reference[prompt.Length..]);
    }

    [Fact]
    public void ChunkedPromptEqualsTokenByToken_AndThreadCountDoesNotMatter()
    {
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        int[] tokens = [1, 403, 407, 261, 378, 275, 268, 341, 430];
        using CpuSession one = new(model, new SessionOptions { Threads = 1 });
        using CpuSession many = new(model, new SessionOptions { Threads = 3 });
        float[] a = new float[512], b = new float[512];
        one.Forward(tokens, 0, a);
        for (int i = 0; i < tokens.Length; i++) many.Forward(tokens.AsSpan(i, 1), i, b);
        Assert.Equal(a, b);

        // Restarting from an earlier position overwrites the cache beyond it.
        many.Forward([77, 78], 3, b);
        many.Forward(tokens.AsSpan(3), 3, b);
        Assert.Equal(a, b);
    }
}
