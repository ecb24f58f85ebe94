using System.Runtime.CompilerServices;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Model;
using CodecLlm.Tokenization;
using Microsoft.Extensions.AI;

namespace CodecLlm.Chat;

/// <summary>
/// <see cref="IChatClient"/> over a locally loaded model. Conversations are rendered with the model's chat
/// template (<see cref="ChatTemplate"/>), generation streams one <see cref="ChatResponseUpdate"/> per token and
/// ends with an update carrying <see cref="UsageContent"/> and the <see cref="ChatFinishReason"/>. Requests may
/// come from many threads: each runs in a session from a small pool (<see cref="CodecLlmChatClientOptions.MaxConcurrentRequests"/>)
/// and the rest wait in a queue. Cancelling a request's token stops its generation before the next token.
/// Dispose releases the sessions and the model. Log probabilities: <see cref="ChatOptions.AdditionalProperties"/>
/// [<see cref="TopLogprobsOption"/>] = N (0 to 20, an int) puts each token's <see cref="TokenLogprobs"/> (with the N most
/// likely alternatives) in its update's AdditionalProperties[<see cref="LogprobsProperty"/>].
/// </summary>
public sealed class CodecLlmChatClient : IChatClient
{
    /// <summary>The ChatOptions.AdditionalProperties key that asks for log probabilities: how many alternatives a token (an int, 0 to 20).</summary>
    public const string TopLogprobsOption = "top_logprobs";

    /// <summary>The ChatResponseUpdate.AdditionalProperties key of a token's <see cref="TokenLogprobs"/>.</summary>
    public const string LogprobsProperty = "logprobs";

    private readonly LoadedModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly SessionPool _pool;
    private readonly CodecLlmChatClientOptions _options;
    private readonly string _bosText;
    private readonly string _eosText;
    private readonly CancellationTokenSource _lifetime = new();
    private int _disposed;

    /// <summary>Wraps a loaded model (the client owns it from now on and disposes it).</summary>
    public CodecLlmChatClient(LoadedModel model, CodecLlmChatClientOptions? options = null)
    {
        _options = options ?? new CodecLlmChatClientOptions();
        _model = model;
        _tokenizer = model.RequireTokenizer();
        IInferenceBackend backend = _options.Backend ?? InferenceBackends.Create(_options.Device);
        Template = ChatTemplate.FromJinja(model.ChatTemplate);
        (_bosText, _eosText) = SpecialTokenText.Resolve(_tokenizer);
        _pool = new SessionPool(model, backend, _options.Session, Math.Max(1, _options.MaxConcurrentRequests), _options.BatchDecode, _options.PromptCache);
        _pool.Warm();

        string id = _options.ModelId ?? Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(model.SourcePath));
        int context = Math.Min(_options.Session.MaxSequenceLength ?? model.Config.MaxSequenceLength, model.Config.MaxSequenceLength);
        ModelInfo = new CodecLlmModelInfo(id, model.SourcePath, model.Format, model.Config, backend.Name, context, !Template.IsFallback);
        Metadata = new ChatClientMetadata("codecllm", null, id);
    }

    /// <summary>Loads a model (any format ModelLoader knows) on a background thread and wraps it.</summary>
    public static async Task<CodecLlmChatClient> LoadAsync(string path, CodecLlmChatClientOptions? options = null,
        IProgress<float>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new CodecLlmChatClientOptions();
        progress?.Report(0f);
        LoadedModel model = await Task.Run(() => ModelLoader.Load(path, new ModelLoadOptions { TokenizerPath = options.TokenizerPath }), cancellationToken);
        try
        {
            progress?.Report(0.5f);
            cancellationToken.ThrowIfCancellationRequested();
            CodecLlmChatClient client = await Task.Run(() => new CodecLlmChatClient(model, options), cancellationToken);
            progress?.Report(1f);
            return client;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public CodecLlmModelInfo ModelInfo { get; }

    public ChatClientMetadata Metadata { get; }

    public ChatTemplate Template { get; }

    /// <summary>Test hook: a pause after each streamed token, so that tests can act while a generation runs.</summary>
    internal TimeSpan TokenPacing { get; set; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        string prompt = RenderPrompt(messages, options);
        return GenerateAsync(prompt, fromTemplate: !Template.IsFallback, options, cancellationToken);
    }

    /// <summary>Generates a continuation of raw text (no chat template): what /v1/completions serves.</summary>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingCompletionAsync(string prompt, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        GenerateAsync(prompt, fromTemplate: false, options, cancellationToken);

    /// <summary>
    /// The prompt text a conversation becomes: the chat template applied, with the generation prompt;
    /// <see cref="ChatOptions.Instructions"/> become a leading system message.
    /// </summary>
    public string RenderPrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        List<ChatMessageText> texts = messages.Select(m => new ChatMessageText(m.Role.Value, m.Text)).ToList();
        if (options?.Instructions is { Length: > 0 } instructions) texts.Insert(0, new ChatMessageText("system", instructions));
        return Template.Render(texts, addGenerationPrompt: true, _bosText, _eosText);
    }

    /// <summary>Token count of a prompt as generation would see it (BOS included when added).</summary>
    public int CountPromptTokens(string prompt, bool fromTemplate) => Tokenize(prompt, fromTemplate).Count;

    /// <summary>Token count of the prompt a conversation becomes, as <see cref="GetStreamingResponseAsync"/> runs it.</summary>
    public int CountPromptTokens(IEnumerable<ChatMessage> messages, ChatOptions? options = null) =>
        Tokenize(RenderPrompt(messages, options), fromTemplate: !Template.IsFallback).Count;

    private IReadOnlyList<int> Tokenize(string prompt, bool fromTemplate)
    {
        // A template that writes bos_token itself gets BOS as the token, not as text; one that does not
        // (ChatML) gets none. Raw prompts and the plain fallback follow the tokenizer's own rule.
        bool addBos = _tokenizer.AddBos;
        if (fromTemplate)
        {
            addBos = _bosText.Length > 0 && prompt.StartsWith(_bosText, StringComparison.Ordinal);
            if (addBos) prompt = prompt[_bosText.Length..];
        }

        return prompt.Length == 0 ? (addBos ? [_tokenizer.BosTokenId] : []) : _tokenizer.Encode(prompt, addBos);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> GenerateAsync(string prompt, bool fromTemplate, ChatOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        GenerationOptions generation = ToGenerationOptions(options);
        IReadOnlyList<int> promptIds = Tokenize(prompt, fromTemplate);
        string responseId = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        DateTimeOffset created = DateTimeOffset.UtcNow;

        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        CancellationToken ct = linked.Token;
        (IInferenceSession session, KvCacheContents? cache) = await _pool.RentAsync(promptIds, ct);
        try
        {
            GenerationResult result = new();
            await foreach (GeneratedToken token in Generator.GenerateAsync(session, _tokenizer, promptIds, generation, ct, result, cache))
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, token.Text)
                {
                    ResponseId = responseId,
                    MessageId = responseId,
                    CreatedAt = created,
                    ModelId = ModelInfo.ModelId,
                    AdditionalProperties = token.Logprobs is { } lp ? new AdditionalPropertiesDictionary { [LogprobsProperty] = lp } : null,
                };
                if (TokenPacing > TimeSpan.Zero) await Task.Delay(TokenPacing, ct);
            }

            GenerationStats stats = result.Stats ?? throw new InvalidOperationException("generation ended without statistics");
            UsageDetails usage = new()
            {
                InputTokenCount = stats.PromptTokens,
                CachedInputTokenCount = stats.CachedPromptTokens,
                OutputTokenCount = stats.GeneratedTokens,
                TotalTokenCount = stats.PromptTokens + stats.GeneratedTokens,
            };
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
            {
                ResponseId = responseId,
                MessageId = responseId,
                CreatedAt = created,
                ModelId = ModelInfo.ModelId,
                FinishReason = stats.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop,
            };
        }
        finally
        {
            _pool.Return(session);
        }
    }

    private GenerationOptions ToGenerationOptions(ChatOptions? options)
    {
        if (options?.ModelId is { Length: > 0 } requested && requested != ModelInfo.ModelId)
            throw new CodecLlmException($"model '{requested}' is not loaded (this client serves '{ModelInfo.ModelId}')");
        int? topLogprobs = null;
        if (options?.AdditionalProperties is { } extra && extra.TryGetValue(TopLogprobsOption, out object? top) && top != null)
            topLogprobs = top is int n and >= 0 and <= TokenLogprobs.MaxTop ? n
                : throw new CodecLlmException($"{TopLogprobsOption} must be an int from 0 to {TokenLogprobs.MaxTop}");
        return new GenerationOptions
        {
            TopLogprobs = topLogprobs,
            MaxTokens = options?.MaxOutputTokens ?? _options.DefaultMaxOutputTokens,
            StopSequences = options?.StopSequences?.ToList() ?? [],
            Sampling = new SamplingOptions
            {
                Temperature = options?.Temperature ?? 0f,
                TopP = options?.TopP ?? 1f,
                TopK = options?.TopK ?? 0,
                Seed = options?.Seed is long seed ? unchecked((ulong)seed) : null,
            },
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey != null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType == typeof(CodecLlmModelInfo)) return ModelInfo;
        if (serviceType == typeof(ModelConfig)) return _model.Config;
        if (serviceType == typeof(ChatTemplate)) return Template;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _lifetime.Cancel();
        _pool.Dispose();
        _model.Dispose();
        _lifetime.Dispose();
    }
}
