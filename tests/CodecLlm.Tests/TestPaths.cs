namespace CodecLlm.Tests;

/// <summary>Where tests find the shared real models (../shared/models beside the repository root).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared/models beside the repository, or $CODECLLM_SHARED_MODELS (used on the GPU machine).</summary>
    public static string SharedModels =>
        Environment.GetEnvironmentVariable("CODECLLM_SHARED_MODELS") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));

    public static string Stories260KBin => Path.Combine(SharedModels, "stories260K", "stories260K.bin");

    public static string Stories260KGguf => Path.Combine(SharedModels, "stories260K", "stories260K.gguf");

    public static string Stories260KTokenizer => Path.Combine(SharedModels, "stories260K", "tok512.bin");

    public static string Stories260KMd => Path.Combine(SharedModels, "stories260K", "stories260K.md");

    public static string Llama2TokenizerModel => Path.Combine(SharedModels, "llama2-tokenizer", "tokenizer.model");

    public static string Llama2TokenizerBin => Path.Combine(SharedModels, "llama2-tokenizer", "tokenizer.bin");

    public static string ArcticBf16 => Path.Combine(SharedModels, "arctic-embed-xs", "arctic-embed-xs.bf16.safetensors");

    /// <summary>
    /// llama2.c's published greedy output for stories260K: the code block after
    /// `./run stories260K.bin -z tok512.bin -t 0.0` in stories260K.md (256 steps from BOS alone).
    /// Greedy decoding of an empty prompt must reproduce it.
    /// </summary>
    public static string Stories260KGreedyReference()
    {
        string md = File.ReadAllText(Stories260KMd);
        int start = md.IndexOf("$ ./run stories260K/stories260K.bin -z stories260K/tok512.bin -t 0.0\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "reference command not found in stories260K.md");
        start = md.IndexOf('\n', start) + 1;
        int end = md.IndexOf("\n```", start, StringComparison.Ordinal);
        return md[start..end];
    }

    /// <summary>A fresh temporary directory, deleted by the caller (or left in /tmp).</summary>
    public static string NewTempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "codecllm-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static string FindRepoRoot()
    {
        string? d = AppContext.BaseDirectory;
        while (d != null && !File.Exists(Path.Combine(d, "CodecLlm.slnx"))) d = Path.GetDirectoryName(d);
        return d ?? throw new InvalidOperationException("repository root (CodecLlm.slnx) not found above " + AppContext.BaseDirectory);
    }
}
