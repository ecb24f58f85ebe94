using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Chat;

/// <summary>stories260K (llama2.c .bin + tok512.bin) as a chat client, and llama2.c's published greedy output for it.</summary>
internal static class ChatTestModels
{
    /// <summary>
    /// stories260K, optionally with a chat template attached (the model has none of its own: it shares the
    /// tensors and tokenizer of the loaded file, which the new LoadedModel owns).
    /// </summary>
    public static CodecLlmChatClient Stories260K(string? chatTemplate = null, int concurrency = 1, bool batch = false, bool promptCache = true, int? context = null)
    {
        LoadedModel loaded = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KTokenizer });
        LoadedModel model = chatTemplate == null
            ? loaded
            : new LoadedModel(loaded.SourcePath, loaded.Format, loaded.Config, loaded.Tensors, loaded.Tokenizer, [loaded], chatTemplate);
        return new CodecLlmChatClient(model, new CodecLlmChatClientOptions { ModelId = "stories260K", MaxConcurrentRequests = concurrency, BatchDecode = batch, PromptCache = promptCache, Session = new SessionOptions { MaxSequenceLength = context } });
    }

}
