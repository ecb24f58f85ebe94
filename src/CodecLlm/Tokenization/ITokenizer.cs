namespace CodecLlm.Tokenization;

/// <summary>
/// The tokenizer a model was trained with. Implementations: llama2.c tokenizer.bin, GGUF vocabulary,
/// SentencePiece tokenizer.model, Hugging Face tokenizer.json (byte-level BPE).
/// </summary>
public interface ITokenizer
{
    int VocabSize { get; }

    int BosTokenId { get; }

    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>
    /// Whether a prompt should start with BOS (tokenizer_config.json add_bos_token, GGUF add_bos_token). False for
    /// Qwen2, which has no BOS; <see cref="BosTokenId"/> is then -1 or a token prompts do not start with.
    /// </summary>
    bool AddBos => true;

    /// <summary>Encodes text to ids, with BOS first when <paramref name="addBos"/>.</summary>
    IReadOnlyList<int> Encode(string text, bool addBos);

    /// <summary>Decodes ids (BOS/EOS and other control tokens produce no text) to a string.</summary>
    string Decode(IReadOnlyList<int> ids);

    /// <summary>
    /// The UTF-8 bytes token <paramref name="tokenId"/> adds to the output when it follows
    /// <paramref name="previousTokenId"/> (-1 at the start). Byte tokens (&lt;0x0A&gt;) yield their single
    /// byte, which may be part of a multi-byte character; SentencePiece drops the leading space of the
    /// first piece after BOS. Concatenating these for a sequence gives the bytes of <see cref="Decode"/>.
    /// </summary>
    byte[] GetTokenBytes(int tokenId, int previousTokenId);

    /// <summary>What to embed in a compressed model file so the same tokenizer can be rebuilt.</summary>
    TokenizerSource Source { get; }
}

/// <summary>
/// A tokenizer in serialisable form. Kind is one of "llama2c-bin", "sentencepiece-model",
/// "hf-tokenizer-json", "gguf-vocab"; Files maps a file name to its bytes (e.g. "tokenizer.json",
/// "tokenizer_config.json").
/// </summary>
public sealed record TokenizerSource(string Kind, IReadOnlyDictionary<string, byte[]> Files);
