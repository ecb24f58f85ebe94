using CodecLlm.Engine;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Engine;

/// <summary>A session whose logits make token script[pos] the argmax after position pos (then EOS).</summary>
internal sealed class ScriptedSession(int[] script, int vocabSize = 16, int maxSequenceLength = 64) : IInferenceSession
{
    public ModelConfig Config { get; } = new()
    {
        Architecture = "llama", HiddenSize = 4, IntermediateSize = 4, NumLayers = 1, NumHeads = 1, NumKvHeads = 1,
        VocabSize = vocabSize, EosTokenIds = [2],
    };

    public string BackendName => "fake";

    public int MaxSequenceLength => maxSequenceLength;

    public int ForwardCalls { get; private set; }

    public List<int> Fed { get; } = [];

    public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
    {
        ForwardCalls++;
        Fed.AddRange(tokens.ToArray());
        int next = startPos + tokens.Length - 1;
        logits.Clear();
        int index = next - 0; // position of the last token
        int target = index < script.Length ? script[index] : 2;
        logits[target] = 10;
    }

    public void Dispose() { }
}

/// <summary>Token i is the text in <c>pieces[i]</c> as UTF-8 bytes; 0 is unknown, 1 BOS, 2 EOS.</summary>
internal sealed class ByteTokenizer(params byte[][] pieces) : ITokenizer
{
    public int VocabSize => pieces.Length;

    public int BosTokenId => 1;

    public IReadOnlyList<int> EosTokenIds => [2];

    public IReadOnlyList<int> Encode(string text, bool addBos) => addBos ? [1] : [];

    public string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => System.Text.Encoding.UTF8.GetString(pieces[i])));

    public byte[] GetTokenBytes(int tokenId, int previousTokenId) => pieces[tokenId];

    public TokenizerSource Source => new("test", new Dictionary<string, byte[]>());

    public static ByteTokenizer FromStrings(params string[] pieces) => new(pieces.Select(System.Text.Encoding.UTF8.GetBytes).ToArray());
}
