#:project ../../src/CodecLlm/CodecLlm.csproj
#:property Nullable=enable
// Prompt caching on the CPU, measured: a chat's next turn with and without the first turn in the session's cache.
// `dotnet run dev/perf/prompt_cache_cpu.cs [preset] [history] [added] [new]` (defaults: llama-mini 600 40 32): a
// synthetic BF16 model (random weights, SyntheticModel), turn 1 = `history` random token ids, greedy `new` tokens; turn
// 2 = turn 1's prompt, its generated tokens and `added` more ids, run in the same session with its KvCacheContents (warm)
// and in a fresh session (cold); prints each one's prefill time, the cached tokens and whether the generated tokens
// and every step's logits agree bit for bit. Median of 5 rounds.
using System.Diagnostics;
using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Model;

string preset = args.Length > 0 ? args[0] : "llama-mini";
int history = args.Length > 1 ? int.Parse(args[1]) : 600, added = args.Length > 2 ? int.Parse(args[2]) : 40, steps = args.Length > 3 ? int.Parse(args[3]) : 32;
using LoadedModel model = SyntheticModel.Create(preset, TensorDType.BF16, 7);
int vocab = model.Config.VocabSize;
var rng = new Random(1);
int[] Ids(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(3, vocab)).ToArray();
var backend = new CpuBackend();
SessionOptions options = new() { MaxSequenceLength = history + steps + added + 8 };

(double PrefillMs, int Cached, int[] Tokens) Turn(IInferenceSession s, int[] prompt, KvCacheContents? cache)
{
    GenerationResult r = new();
    GenerationOptions g = new() { MaxTokens = steps, Sampling = new SamplingOptions { Temperature = 0 } };
    var e = Generator.GenerateAsync(s, new NoTokenizer(vocab), prompt, g, default, r, cache).GetAsyncEnumerator();
    while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) { }
    return (r.Stats!.PrefillTime.TotalMilliseconds, r.Stats.CachedPromptTokens, r.TokenIds.ToArray());
}

List<double> warm = [], cold = [];
bool same = true;
int cachedTokens = 0;
for (int round = 0; round < 6; round++)
{
    int[] first = [1, .. Ids(history - 1)];
    using IInferenceSession a = backend.CreateSession(model, options), b = backend.CreateSession(model, options);
    KvCacheContents cache = new();
    var t1 = Turn(a, first, cache);
    int[] second = [.. first, .. t1.Tokens, .. Ids(added)];
    var w = Turn(a, second, cache);
    var c = Turn(b, second, null);
    same &= w.Tokens.SequenceEqual(c.Tokens);
    cachedTokens = w.Cached;
    if (round == 0) continue;  // warm-up
    warm.Add(w.PrefillMs);
    cold.Add(c.PrefillMs);
}
double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
Console.WriteLine($"{preset}, CPU ({Environment.ProcessorCount} cores): turn 2 = {history} + {steps} + {added} = {history + steps + added} prompt tokens; " +
    $"cold prefill {Median(cold):F0} ms, warm {Median(warm):F0} ms ({cachedTokens} cached, {history + steps + added - cachedTokens} run); same tokens: {same}");

sealed class NoTokenizer(int vocab) : CodecLlm.Tokenization.ITokenizer
{
    public int VocabSize => vocab;
    public int BosTokenId => 1;
    public IReadOnlyList<int> EosTokenIds => [];
    public IReadOnlyList<int> Encode(string text, bool addBos) => throw new NotSupportedException();
    public string Decode(IReadOnlyList<int> ids) => "";
    public byte[] GetTokenBytes(int tokenId, int previousTokenId) => [];
    public CodecLlm.Tokenization.TokenizerSource Source => new("none", new Dictionary<string, byte[]>());
}
