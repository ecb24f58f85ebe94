using System.Diagnostics;
using System.Runtime.CompilerServices;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Engine;

/// <summary>
/// Autoregressive generation over any <see cref="IInferenceSession"/>: run the prompt, then repeatedly sample a
/// token, stream its text (never splitting a UTF-8 character), and feed it back; stop at an end token, a stop
/// sequence, MaxTokens or the end of the context. The <see cref="GenerationResult"/> gets its statistics however
/// the stream ends: cancellation (which throws <see cref="OperationCanceledException"/>) and a consumer that stops
/// enumerating early both record <see cref="FinishReason.Cancelled"/>.
/// The session's Forward is called synchronously on the thread that advances the enumerator. When an end token
/// stops generation while text is still held back (a partial stop sequence or an unfinished UTF-8 character),
/// that text comes as a final item with TokenId -1.
/// <para>
/// With a <see cref="KvCacheContents"/> (what the session's cache holds from its last generation), the prompt's leading
/// tokens that the cache already holds are not run again: the forward pass starts after them (prompt caching), and the
/// contents are updated as the generation writes the cache. On the CPU the logits are then bit-identical to running
/// the whole prompt (every token's row is computed alone, whatever the pass); on the GPU cached keys and values that a
/// decode step wrote differ in their last bits from a prefill's, so logits may too.
/// </para>
/// </summary>
public static class Generator
{
    public static IAsyncEnumerable<GeneratedToken> GenerateAsync(IInferenceSession session, ITokenizer tokenizer, string prompt,
        GenerationOptions options, CancellationToken cancellationToken = default, GenerationResult? result = null, KvCacheContents? cache = null)
    {
        IReadOnlyList<int> ids = prompt.Length == 0 ? [] : tokenizer.Encode(prompt, options.AddBos && tokenizer.AddBos);
        return GenerateAsync(session, tokenizer, ids, options, cancellationToken, result, cache);
    }

    public static async IAsyncEnumerable<GeneratedToken> GenerateAsync(IInferenceSession session, ITokenizer tokenizer, IReadOnlyList<int> promptIds,
        GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default, GenerationResult? result = null,
        KvCacheContents? cache = null)
    {
        result ??= new GenerationResult();
        if (promptIds.Count == 0)
        {
            if (tokenizer.BosTokenId < 0) throw new CodecLlmException("the prompt is empty and this tokenizer has no BOS token to start from");
            promptIds = [tokenizer.BosTokenId]; // an empty prompt starts from BOS alone
        }
        if (promptIds.Count >= session.MaxSequenceLength)
            throw new CodecLlmException($"the prompt has {promptIds.Count} tokens; the context holds {session.MaxSequenceLength} (prompt plus at least one new token)");
        if (options.TopLogprobs is < 0 or > TokenLogprobs.MaxTop)
            throw new ArgumentOutOfRangeException(nameof(options), $"TopLogprobs must be between 0 and {TokenLogprobs.MaxTop}");
        result.PromptIds = promptIds;
        await Task.Yield(); // the caller gets its enumerator back before any compute

        Sampler sampler = new(options.Sampling);
        result.Seed = sampler.Seed;
        HashSet<int> endTokens = [.. session.Config.EosTokenIds, .. tokenizer.EosTokenIds];
        Utf8StreamDecoder utf8 = new();
        StopSequenceFilter stops = new(options.StopSequences);
        float[] logits = new float[session.Config.VocabSize];
        int[] one = new int[1];
        // Non-greedy choices on the session's device when it can (same random numbers, same algorithm); log probabilities
        // need the logits here.
        IDeviceSampler? device = sampler.IsGreedy || options.TopLogprobs != null ? null : session as IDeviceSampler;
        int deviceToken = -1;

        Stopwatch clock = Stopwatch.StartNew();
        cancellationToken.ThrowIfCancellationRequested();
        // Prompt caching: the leading tokens the cache holds stay; the pass overwrites the positions after them.
        int cached = cache?.ReusablePrefix(promptIds) ?? 0;
        cache?.Truncate(cached);
        int[] run = promptIds.Skip(cached).ToArray();
        if (device != null) deviceToken = device.ForwardSample(run, cached, options.Sampling, sampler.NextCoin());
        else session.Forward(run, cached, logits);
        cache?.Append(run);
        cache?.MarkPrompt();
        TimeSpan prefill = clock.Elapsed;
        clock.Restart();

        int pos = promptIds.Count, generated = 0, previous = promptIds[^1];
        FinishReason reason = FinishReason.Cancelled; // stays so if the consumer stops early or cancels
        try
        {
            while (true)
            {
                if (generated >= options.MaxTokens)
                {
                    reason = FinishReason.Length;
                    break;
                }
                cancellationToken.ThrowIfCancellationRequested();
                int token = device != null ? deviceToken : sampler.Sample(logits);
                if (endTokens.Contains(token))
                {
                    reason = FinishReason.Stop;
                    break;
                }
                generated++;
                result.AddToken(token);
                bool last = generated >= options.MaxTokens || pos >= session.MaxSequenceLength;
                string text = stops.Push(utf8.Push(tokenizer.GetTokenBytes(token, previous)) + (last ? utf8.Flush() : ""));
                if (last) text += stops.Flush();
                result.AddText(text);
                yield return new GeneratedToken(token, text)
                {
                    Logprobs = options.TopLogprobs is int top ? Logprobs(logits, token, top, tokenizer, previous) : null,
                };
                if (stops.Stopped)
                {
                    reason = FinishReason.Stop;
                    break;
                }
                if (last)
                {
                    reason = FinishReason.Length;
                    break;
                }
                previous = token;
                one[0] = token;
                if (device != null) deviceToken = device.ForwardSample(one, pos++, options.Sampling, sampler.NextCoin());
                else session.Forward(one, pos++, logits);
                cache?.Append(one);
            }

            string tail = stops.Push(utf8.Flush()) + stops.Flush();
            if (tail.Length > 0)
            {
                result.AddText(tail);
                yield return new GeneratedToken(-1, tail);
            }
        }
        finally
        {
            result.Stats = new GenerationStats(promptIds.Count, generated, prefill, clock.Elapsed, reason) { CachedPromptTokens = cached };
        }
    }

    /// <summary>A step's log probabilities, the tokens' bytes as the tokenizer writes them after <paramref name="previous"/>.</summary>
    private static TokenLogprobs Logprobs(float[] logits, int token, int top, ITokenizer tokenizer, int previous) =>
        TokenLogprobs.Compute(logits, token, top, id => tokenizer.GetTokenBytes(id, previous));
}
