using System.Text;
using CodecLlm.Chat;
using CodecLlm.Formats;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Chat;

public class SpecialTokenTextTests
{
    [Fact]
    public void TokenizerConfig_StringOrContentObject()
    {
        // Llama 3 style: an object with "content"; Qwen2 style: plain strings
        FakeTokenizer llama3 = new("""{"bos_token": {"content": "<|begin_of_text|>", "lstrip": false}, "eos_token": "<|eot_id|>"}""");
        Assert.Equal(("<|begin_of_text|>", "<|eot_id|>"), SpecialTokenText.Resolve(llama3));
        FakeTokenizer qwen2 = new("""{"bos_token": null, "eos_token": "<|im_end|>"}""");
        Assert.Equal(("<s>", "<|im_end|>"), SpecialTokenText.Resolve(qwen2));
    }

    [Fact]
    public void GgufVocabulary_TokenStrings()
    {
        // stories260K.gguf's vocabulary: ids 1 and 2 are "<s>" and "</s>" (llama.cpp's converter of tok512)
        using LoadedModel model = ModelLoader.Load(TestPaths.Stories260KGguf);
        Assert.Equal(("<s>", "</s>"), SpecialTokenText.Resolve(model.RequireTokenizer()));
    }

    [Fact]
    public void NoMetadata_LlamaConvention() =>
        Assert.Equal(("<s>", "</s>"), SpecialTokenText.Resolve(new FakeTokenizer(null)));

    private sealed class FakeTokenizer(string? tokenizerConfig) : ITokenizer
    {
        public int VocabSize => 10;

        public int BosTokenId => 1;

        public IReadOnlyList<int> EosTokenIds => [2];

        public TokenizerSource Source { get; } = new("test", tokenizerConfig == null
            ? new Dictionary<string, byte[]>()
            : new Dictionary<string, byte[]> { ["tokenizer_config.json"] = Encoding.UTF8.GetBytes(tokenizerConfig) });

        public IReadOnlyList<int> Encode(string text, bool addBos) => [];

        public string Decode(IReadOnlyList<int> ids) => "";

        public byte[] GetTokenBytes(int tokenId, int previousTokenId) => [];
    }
}
