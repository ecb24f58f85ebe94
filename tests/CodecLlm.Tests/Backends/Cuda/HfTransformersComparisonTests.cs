using System.Runtime.InteropServices;
using System.Text.Json;
using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// Our HF loader + engine against Hugging Face transformers on the same random TinyLlama-shaped model, saved by
/// save_pretrained. The references come from tools/gpu/hf_reference.py run on the GPU machine: a Llama
/// ($CODECLLM_HF_REFERENCE) and a Mistral whose attention looks back 16 positions over a 40-token prompt
/// ($CODECLLM_HF_REFERENCE_SLIDING: `--arch mistral --sliding-window 16 --prompt-len 40`); without them the tests skip.
/// </summary>
[Collection("gpu")]
public class HfTransformersComparisonTests
{
    [Fact]
    public void GreedyTokensAndLogitsMatchTransformers()
    {
        string dir = Reference("CODECLLM_HF_REFERENCE", "");
        using var backend = new CudaBackend();
        Compare(dir, model => backend.CreateCudaSession(model, new SessionOptions { MaxSequenceLength = 128 }), "GPU");
    }

    /// <summary>Sliding-window attention (Mistral's sliding_window) on the GPU and on the CPU, against transformers.</summary>
    [Fact]
    public void SlidingWindowMistralMatchesTransformers()
    {
        string dir = Reference("CODECLLM_HF_REFERENCE_SLIDING", " --arch mistral --sliding-window 16 --prompt-len 40");
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 16 });
        ModelConfig c = Compare(dir, model => backend.CreateCudaSession(model, new SessionOptions { MaxSequenceLength = 128 }), "GPU");
        Assert.Equal(("mistral", 16), (c.Architecture, c.AttentionWindow(0)));
        Compare(dir, model => new CpuBackend().CreateSession(model, new SessionOptions { Threads = Environment.ProcessorCount }), "CPU");
    }

    private static string Reference(string variable, string args)
    {
        string? dir = Environment.GetEnvironmentVariable(variable);
        if (dir is not { Length: > 0 } || !File.Exists(Path.Combine(dir, "reference.json")))
            Assert.Skip($"no HF reference (${variable}; made by tools/gpu/hf_reference.py DIR{args} on the GPU machine)");
        GpuTest.Context();
        return dir;
    }

    private static ModelConfig Compare(string dir, Func<LoadedModel, IInferenceSession> open, string label)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        int[] prompt = doc.RootElement.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] tokens = doc.RootElement.GetProperty("tokens_fp32").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] tokensBf16 = doc.RootElement.GetProperty("tokens_bf16").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        using LoadedModel model = ModelLoader.Load(Path.Combine(dir, "model"));
        int vocab = model.Config.VocabSize;
        float[] ref32 = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "logits_fp32.bin"))).ToArray();
        float[] ref16 = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "logits_bf16.bin"))).ToArray();
        using IInferenceSession s = open(model);
        float[] logits = new float[vocab];
        double worst32 = 0, worst16 = 0;
        int agreeBf16 = 0;
        s.Forward(prompt, 0, logits);
        for (int i = 0; i < tokens.Length; i++)
        {
            worst32 = Math.Max(worst32, GpuTest.RelErr(logits, ref32.AsSpan(i * vocab, vocab)));
            int mine = Sampler.Argmax(logits);
            if (agreeBf16 == i) worst16 = Math.Max(worst16, GpuTest.RelErr(logits, ref16.AsSpan(i * vocab, vocab))); // while both runs saw the same tokens
            Assert.True(mine == tokens[i], $"{label} step {i}: we pick {mine}, transformers (fp32 over the BF16 weights) {tokens[i]}");
            if (agreeBf16 == i && mine == tokensBf16[i]) agreeBf16++;
            s.Forward([mine], prompt.Length + i, logits);
        }
        Console.WriteLine($"HF comparison ({model.Config.Architecture}, window {model.Config.SlidingWindow}, prompt {prompt.Length}, {label}): {tokens.Length} greedy tokens identical; max rel logit diff vs HF fp32 {worst32:E2}, vs HF bf16 {worst16:E2}; HF bf16 run agrees for the first {agreeBf16}/{tokens.Length} tokens");
        Assert.True(worst32 < 2e-3, $"{label}: logits differ from transformers fp32 by {worst32:E2}");
        Assert.True(worst16 < 5e-2, $"{label}: logits differ from transformers bf16 by {worst16:E2} (BF16 activation rounding)");
        return model.Config;
    }
}
