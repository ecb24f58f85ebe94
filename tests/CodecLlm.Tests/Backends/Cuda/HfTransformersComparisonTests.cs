using System.Runtime.InteropServices;
using System.Text.Json;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// Our HF loader + GPU engine against Hugging Face transformers on the same random TinyLlama-shaped model,
/// saved by save_pretrained. The reference comes from tools/gpu/hf_reference.py run on the GPU machine
/// (directory in $CODECLLM_HF_REFERENCE); without it the test skips.
/// </summary>
[Collection("gpu")]
public class HfTransformersComparisonTests
{
    [Fact]
    public void GreedyTokensAndLogitsMatchTransformers()
    {
        string? dir = Environment.GetEnvironmentVariable("CODECLLM_HF_REFERENCE");
        if (dir is not { Length: > 0 } || !File.Exists(Path.Combine(dir, "reference.json")))
            Assert.Skip("no HF reference ($CODECLLM_HF_REFERENCE; made by tools/gpu/hf_reference.py on the GPU machine)");
        GpuTest.Context();
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        int[] prompt = doc.RootElement.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] tokens = doc.RootElement.GetProperty("tokens_fp32").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] tokensBf16 = doc.RootElement.GetProperty("tokens_bf16").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        using LoadedModel model = ModelLoader.Load(Path.Combine(dir, "model"));
        int vocab = model.Config.VocabSize;
        float[] ref32 = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "logits_fp32.bin"))).ToArray();
        float[] ref16 = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "logits_bf16.bin"))).ToArray();
        using var backend = new CudaBackend();
        using CudaSession s = backend.CreateCudaSession(model, new SessionOptions { MaxSequenceLength = 128 });
        float[] logits = new float[vocab];
        double worst32 = 0, worst16 = 0;
        int agreeBf16 = 0;
        s.Forward(prompt, 0, logits);
        for (int i = 0; i < tokens.Length; i++)
        {
            worst32 = Math.Max(worst32, GpuTest.RelErr(logits, ref32.AsSpan(i * vocab, vocab)));
            int mine = Sampler.Argmax(logits);
            if (agreeBf16 == i) worst16 = Math.Max(worst16, GpuTest.RelErr(logits, ref16.AsSpan(i * vocab, vocab))); // while both runs saw the same tokens
            Assert.True(mine == tokens[i], $"step {i}: we pick {mine}, transformers (fp32 over the BF16 weights) {tokens[i]}");
            if (agreeBf16 == i && mine == tokensBf16[i]) agreeBf16++;
            s.Forward([mine], prompt.Length + i, logits);
        }
        Console.WriteLine($"HF comparison: {tokens.Length} greedy tokens identical; max rel logit diff vs HF fp32 {worst32:E2}, vs HF bf16 {worst16:E2}; HF bf16 run agrees for the first {agreeBf16}/{tokens.Length} tokens");
        Assert.True(worst32 < 2e-3, $"logits differ from transformers fp32 by {worst32:E2}");
        Assert.True(worst16 < 5e-2, $"logits differ from transformers bf16 by {worst16:E2} (BF16 activation rounding)");
    }
}
