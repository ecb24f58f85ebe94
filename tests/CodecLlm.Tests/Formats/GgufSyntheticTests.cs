using CodecLlm.Formats.Gguf;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>Small GGUF files written by <see cref="GgufTestWriter"/>: every metadata type, qwen2, rope factors.</summary>
public class GgufSyntheticTests
{
    internal const int Hidden = 8, Heads = 2, KvHeads = 1, Ff = 12, Vocab = 4, HeadDim = Hidden / Heads;

    /// <summary>A complete one-layer model; element values encode (tensor index, element index) so mix-ups show.</summary>
    internal static GgufTestWriter TinyModel(string arch, bool withOutput = true, bool withBias = false, uint matrixType = 0, int alignment = 32)
    {
        GgufTestWriter w = new GgufTestWriter { Alignment = alignment }
            .Meta("general.architecture", arch)
            .Meta($"{arch}.context_length", 64u)
            .Meta($"{arch}.embedding_length", (uint)Hidden)
            .Meta($"{arch}.feed_forward_length", (uint)Ff)
            .Meta($"{arch}.block_count", 1u)
            .Meta($"{arch}.attention.head_count", (uint)Heads)
            .Meta($"{arch}.attention.head_count_kv", (uint)KvHeads)
            .Meta($"{arch}.rope.freq_base", 1000000f)
            .Meta($"{arch}.attention.layer_norm_rms_epsilon", 1e-6f)
            .Meta("tokenizer.ggml.model", arch == "qwen2" ? "gpt2" : "llama")
            .Meta("tokenizer.ggml.tokens", new[] { "a", "b", "c", "d" })
            .Meta("tokenizer.ggml.token_type", new[] { 1, 1, 3, 3 })
            .Meta("tokenizer.ggml.merges", new[] { "a b" })
            .Meta("tokenizer.ggml.eos_token_id", 3u)
            .Meta("tokenizer.ggml.eot_token_id", 2u)
            .Meta("tokenizer.chat_template", "{{ messages }}");
        int idx = 0;
        void Add(string name, params long[] dims)
        {
            long n = dims.Aggregate(1L, (a, b) => a * b);
            float[] v = Enumerable.Range(0, (int)n).Select(i => idx * 1000f + i).ToArray();
            idx++;
            if (dims.Length == 2 && matrixType is 1 or 30)
                w.Tensor(name, dims, matrixType, new byte[n * 2]); // F16, BF16
            else if (dims.Length == 2 && matrixType != 0)
                w.Tensor(name, dims, matrixType, new byte[n]); // a quantised type: the bytes are never read
            else
                w.F32Tensor(name, dims, v);
        }
        int kv = KvHeads * HeadDim;
        Add("token_embd.weight", Hidden, Vocab);
        Add("blk.0.attn_norm.weight", Hidden);
        Add("blk.0.attn_q.weight", Hidden, Hidden);
        Add("blk.0.attn_k.weight", Hidden, kv);
        Add("blk.0.attn_v.weight", Hidden, kv);
        if (withBias)
        {
            Add("blk.0.attn_q.bias", Hidden);
            Add("blk.0.attn_k.bias", kv);
            Add("blk.0.attn_v.bias", kv);
        }
        Add("blk.0.attn_output.weight", Hidden, Hidden);
        Add("blk.0.ffn_norm.weight", Hidden);
        Add("blk.0.ffn_gate.weight", Hidden, Ff);
        Add("blk.0.ffn_up.weight", Hidden, Ff);
        Add("blk.0.ffn_down.weight", Ff, Hidden);
        Add("output_norm.weight", Hidden);
        if (withOutput) Add("output.weight", Hidden, Vocab);
        return w;
    }

    internal static string Write(GgufTestWriter w)
    {
        string dir = TestPaths.NewTempDir();
        return w.WriteTo(Path.Combine(dir, "model.gguf"));
    }

    [Fact]
    public void EveryMetadataValueTypeRoundTrips()
    {
        string path = Write(new GgufTestWriter()
            .Meta("u8", (byte)200).Meta("i8", (sbyte)-5).Meta("u16", (ushort)60000).Meta("i16", (short)-300)
            .Meta("u32", 4000000000u).Meta("i32", -7).Meta("f32", 1.5f).Meta("bool", true).Meta("str", "héllo")
            .Meta("u64", ulong.MaxValue).Meta("i64", long.MinValue).Meta("f64", Math.PI)
            .Meta("arr.str", new[] { "x", "", "zz" }).Meta("arr.f32", new[] { 1f, -2f })
            .Meta("arr.u8", new byte[] { 1, 2, 3 }).Meta("arr.nested", new[] { new[] { 1, 2 }, new[] { 3 } }));
        using GgufFile f = GgufFile.Open(path);
        Assert.Equal((byte)200, f.Metadata["u8"].Value);
        Assert.Equal((sbyte)-5, f.Metadata["i8"].Value);
        Assert.Equal((ushort)60000, f.Metadata["u16"].Value);
        Assert.Equal((short)-300, f.Metadata["i16"].Value);
        Assert.Equal(4000000000u, f.Metadata["u32"].Value);
        Assert.Equal(-7, f.Metadata["i32"].Value);
        Assert.Equal(1.5f, f.GetFloat("f32"));
        Assert.Equal(true, f.GetBool("bool"));
        Assert.Equal("héllo", f.GetString("str"));
        Assert.Equal(ulong.MaxValue, f.Metadata["u64"].Value);
        Assert.Equal(long.MinValue, f.GetInt("i64"));
        Assert.Equal(Math.PI, f.Metadata["f64"].Value);
        Assert.Equal((float)Math.PI, f.GetFloat("f64"));
        Assert.Equal(["x", "", "zz"], f.GetStringArray("arr.str")!);
        Assert.Equal([1f, -2f], f.GetFloatArray("arr.f32")!);
        Assert.Equal([1, 2, 3], f.GetIntArray("arr.u8")!);
        object[] nested = Assert.IsType<object[]>(f.Metadata["arr.nested"].Value);
        Assert.Equal([3], Assert.IsType<int[]>(((GgufValue)nested[1]).Value));
        Assert.Equal(4000000000L, f.GetInt("u32"));
        Assert.Empty(f.Tensors);
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => f.GetString("u32"));
        Assert.Contains("'u32'", e.Message);
    }

    [Fact]
    public void LlamaShapesAreReversedAndDataOffsetsHonourTheAlignment()
    {
        string path = Write(TinyModel("llama", alignment: 64).Meta("general.alignment", 64u));
        using GgufFile f = GgufFile.Open(path);
        Assert.Equal(64, f.Alignment);
        Assert.All(f.Tensors, t => Assert.Equal(0, (t.Offset - f.DataStart) % 64));
        GgufModelContents m = GgufModelReader.Read(f);
        Assert.Equal([(long)Ff, Hidden], m.Tensors[TensorNames.Gate(0)].Shape);
        Assert.Equal([(long)Hidden, Ff], m.Tensors[TensorNames.Down(0)].Shape);
        Assert.Equal([(long)KvHeads * HeadDim, Hidden], m.Tensors[TensorNames.K(0)].Shape);
        // tensor #7 (ffn_gate, counting token_embd as #0) holds 7000, 7001, ...
        float[] gate = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(m.Tensors[TensorNames.Gate(0)].StoredBytes).ToArray();
        Assert.Equal(7000f, gate[0]);
        Assert.Equal(7000f + Ff * Hidden - 1, gate[^1]);
        Assert.Equal(RopeStyle.Interleaved, m.Config.RopeStyle);
        Assert.Equal(1e6f, m.Config.RopeTheta);
        Assert.Equal(1e-6f, m.Config.RmsNormEps);
        Assert.Equal(64, m.Config.MaxSequenceLength);
        Assert.Equal([3, 2], m.Config.EosTokenIds);
        Assert.Equal("{{ messages }}", m.ChatTemplate);
    }

    [Theory]
    [InlineData(1u, TensorDType.F16)]
    [InlineData(30u, TensorDType.BF16)]
    public void HalfPrecisionMatrices(uint ggmlType, TensorDType expected)
    {
        string path = Write(TinyModel("llama", matrixType: ggmlType));
        using GgufFile f = GgufFile.Open(path);
        GgufModelContents m = GgufModelReader.Read(f);
        Assert.Equal(expected, m.Tensors[TensorNames.Up(0)].DType);
        Assert.Equal(Ff * Hidden * 2, m.Tensors[TensorNames.Up(0)].StoredLength);
        Assert.Equal(TensorDType.F32, m.Tensors[TensorNames.MlpNorm(0)].DType);
    }

    [Fact]
    public void Qwen2WithBiasesAndTiedEmbeddings()
    {
        string path = Write(TinyModel("qwen2", withOutput: false, withBias: true));
        using GgufFile f = GgufFile.Open(path);
        GgufModelContents m = GgufModelReader.Read(f);
        Assert.Equal("qwen2", m.Config.Architecture);
        Assert.Equal(RopeStyle.HalfSplit, m.Config.RopeStyle);
        Assert.True(m.Config.TiedEmbeddings);
        Assert.True(m.Config.AttentionBias);
        Assert.Equal([(long)Hidden], m.Tensors[TensorNames.QBias(0)].Shape);
        Assert.Equal([(long)KvHeads * HeadDim], m.Tensors[TensorNames.VBias(0)].Shape);
        Assert.Equal("gpt2", m.Vocabulary!.Model);
        Assert.Equal(["a b"], m.Vocabulary.Merges!);
        Assert.False(m.Vocabulary.AddBos);
        Assert.Equal(3, m.Vocabulary.BosTokenId); // no bos id: falls back to the first eos, as Qwen's own config does
    }

    private static float[] Llama3Factors(int headDim, double theta, double factor, double low, double high, double orig)
    {
        // As convert_hf_to_gguf.py computes rope_freqs.weight for rope_scaling.rope_type == "llama3".
        float[] factors = new float[headDim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double wavelen = 2 * Math.PI * Math.Pow(theta, 2.0 * i / headDim);
            double smooth = (orig / wavelen - low) / (high - low);
            factors[i] = wavelen < orig / high ? 1f : wavelen > orig / low ? (float)factor : (float)(1 / ((1 - smooth) / factor + smooth));
        }
        return factors;
    }

    [Theory]
    [InlineData(8, 8192)] // Llama 3.1
    [InlineData(32, 8192)] // Llama 3.2
    public void Llama3RopeFactorsAreRecognised(float factor, int orig)
    {
        float[] factors = Llama3Factors(128, 500000, factor, 1, 4, orig);
        Assert.Equal(new RopeScaling("llama3", factor, 1, 4, orig), Llama3RopeFactors.Recover("x.gguf", factors, 128, 500000));
        factors[40] *= 1.01f;
        Assert.Throws<UnsupportedModelException>(() => Llama3RopeFactors.Recover("x.gguf", factors, 128, 500000));
    }

    [Fact]
    public void RopeFreqsTensorIsReadAndNotTreatedAsAWeight()
    {
        string path = Write(TinyModel("llama").F32Tensor("rope_freqs.weight", [HeadDim / 2], [1f, 1f]));
        using GgufFile f = GgufFile.Open(path);
        GgufModelContents m = GgufModelReader.Read(f);
        Assert.Null(m.Config.RopeScaling);
        Assert.DoesNotContain(m.Tensors.Keys, k => k.Contains("rope", StringComparison.Ordinal));
    }
}
