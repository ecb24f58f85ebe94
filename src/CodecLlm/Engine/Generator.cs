using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Engine;

/// <summary>
/// Autoregressive generation over any <see cref="IInferenceSession"/>: run the prompt, then repeatedly sample a
/// token, stream its text (never splitting a UTF-8 character), and feed it back; stop at an end token, a stop
/// sequence, MaxTokens or the end of the context. Cancellation throws <see cref="OperationCanceledException"/>
/// after recording <see cref="FinishReason.Cancelled"/> in the <see cref="GenerationResult"/>.
/// The session's Forward is called synchronously on the thread that advances the enumerator. When an end token
/// stops generation while text is still held back (a partial stop sequence or an unfinished UTF-8 character),
/// that text comes as a final item with TokenId -1.
/// </summary>
public static class Generator
{
    public static IAsyncEnumerable<GeneratedToken> GenerateAsync(IInferenceSession session, ITokenizer tokenizer, string prompt,
        GenerationOptions options, CancellationToken cancellationToken = default, GenerationResult? result = null)
    {
        IReadOnlyList<int> ids = prompt.Length == 0 ? [] : tokenizer.Encode(prompt, options.AddBos);
        if (ids.Count == 0) ids = [tokenizer.BosTokenId];
        return GenerateAsync(session, tokenizer, ids, options, cancellationToken, result);
    }

    public static async IAsyncEnumerable<GeneratedToken> GenerateAsync(IInferenceSession session, ITokenizer tokenizer, IReadOnlyList<int> promptIds,
        GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default, GenerationResult? result = null)
    {
        result ??= new GenerationResult();
        if (promptIds.Count == 0) promptIds = [tokenizer.BosTokenId];
        if (promptIds.Count >= session.MaxSequenceLength)
            throw new CodecLlmException($"the prompt has {promptIds.Count} tokens; the context holds {session.MaxSequenceLength} (prompt plus at least one new token)");
        result.PromptIds = promptIds;
        await Task.Yield(); // the caller gets its enumerator back before any compute

        Sampler sampler = new(options.Sampling);
        result.Seed = sampler.Seed;
        HashSet<int> endTokens = [.. session.Config.EosTokenIds, .. tokenizer.EosTokenIds];
        Decoder utf8 = new UTF8Encoding(false, false).GetDecoder();
        StopSequenceFilter stops = new(options.StopSequences);
        float[] logits = new float[session.Config.VocabSize];
        int[] one = new int[1];

        Stopwatch clock = Stopwatch.StartNew();
        cancellationToken.ThrowIfCancellationRequested();
        session.Forward(promptIds.ToArray(), 0, logits);
        TimeSpan prefill = clock.Elapsed;
        clock.Restart();

        int pos = promptIds.Count, generated = 0, previous = promptIds[^1];
        FinishReason reason = FinishReason.Length;
        while (generated < options.MaxTokens)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                result.Stats = new GenerationStats(promptIds.Count, generated, prefill, clock.Elapsed, FinishReason.Cancelled);
                cancellationToken.ThrowIfCancellationRequested();
            }
            int token = sampler.Sample(logits);
            if (endTokens.Contains(token))
            {
                reason = FinishReason.Stop;
                break;
            }
            generated++;
            result.AddToken(token);
            bool last = generated >= options.MaxTokens || pos >= session.MaxSequenceLength;
            string text = stops.Push(DecodeBytes(utf8, tokenizer.GetTokenBytes(token, previous), flush: last));
            if (last) text += stops.Flush();
            result.AddText(text);
            yield return new GeneratedToken(token, text);
            if (stops.Stopped)
            {
                reason = FinishReason.Stop;
                break;
            }
            if (last) break;
            previous = token;
            one[0] = token;
            session.Forward(one, pos++, logits);
        }

        string tail = stops.Push(DecodeBytes(utf8, [], flush: true)) + stops.Flush();
        if (tail.Length > 0)
        {
            result.AddText(tail);
            yield return new GeneratedToken(-1, tail);
        }
        result.Stats = new GenerationStats(promptIds.Count, generated, prefill, clock.Elapsed, reason);
    }

    private static string DecodeBytes(Decoder decoder, byte[] bytes, bool flush)
    {
        char[] chars = new char[decoder.GetCharCount(bytes, flush) + 1];
        int n = decoder.GetChars(bytes, chars, flush);
        return new string(chars, 0, n);
    }
}
