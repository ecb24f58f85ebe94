namespace CodecLlm.Engine;

/// <summary>
/// Chooses the next token from logits. Temperature 0 is greedy: the argmax, lowest id on ties. Otherwise the
/// logits are divided by the temperature and turned into probabilities; top-k keeps the k most likely tokens,
/// top-p then keeps the smallest most-likely prefix whose mass reaches p (both rank ties by lower id), and a
/// token is drawn from what is left with the seeded <see cref="SamplerRandom"/>.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly SamplerRandom _random;
    private float[] _probs = [];
    private ulong[] _keys = [];

    public Sampler(SamplingOptions options)
    {
        if (options.Temperature < 0 || float.IsNaN(options.Temperature))
            throw new ArgumentOutOfRangeException(nameof(options), $"temperature must be ≥ 0, not {options.Temperature}");
        if (!(options.TopP > 0 && options.TopP <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"top-p must be in (0, 1], not {options.TopP}");
        if (options.TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"top-k must be ≥ 0, not {options.TopK}");
        _options = options;
        Seed = options.Seed ?? (ulong)Random.Shared.NextInt64();
        _random = new SamplerRandom(Seed);
    }

    /// <summary>The seed in use (the given one, or the one picked when none was given).</summary>
    public ulong Seed { get; }

    /// <summary>Whether every choice is the argmax (temperature 0 or top-k 1): no random number is drawn.</summary>
    public bool IsGreedy => _options.Temperature == 0 || _options.TopK == 1;

    /// <summary>
    /// Draws the next random number of the sequence, as <see cref="Sample(ReadOnlySpan{float})"/> does once per
    /// non-greedy choice; for a device that samples with <see cref="Sample(ReadOnlySpan{float}, float)"/>'s algorithm.
    /// </summary>
    public float NextCoin() => _random.NextSingle();

    public int Sample(ReadOnlySpan<float> logits) => Sample(logits, IsGreedy || logits.IsEmpty ? 0f : NextCoin());

    /// <summary>The choice for these logits given the random number <paramref name="coin"/> in [0, 1) (ignored when greedy).</summary>
    public int Sample(ReadOnlySpan<float> logits, float coin)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits to sample from", nameof(logits));
        if (IsGreedy) return Argmax(logits);

        int n = logits.Length;
        if (_probs.Length < n)
        {
            _probs = new float[n];
            _keys = new ulong[n];
        }
        Span<float> probs = _probs.AsSpan(0, n);
        for (int i = 0; i < n; i++) probs[i] = logits[i] / _options.Temperature;
        Backends.Cpu.Softmax.Apply(probs);

        bool truncate = _options.TopK > 0 && _options.TopK < n || _options.TopP < 1;
        return truncate ? SampleTruncated(probs, coin) : SampleAll(probs, coin);
    }

    /// <summary>Index of the largest value; the lowest index among equal maxima.</summary>
    public static int Argmax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    private static int SampleAll(ReadOnlySpan<float> probs, float coin)
    {
        float cdf = 0;
        for (int i = 0; i < probs.Length; i++)
        {
            cdf += probs[i];
            if (coin < cdf) return i;
        }
        return LastNonZero(probs);
    }

    private int SampleTruncated(ReadOnlySpan<float> probs, float coin)
    {
        int n = probs.Length;
        if (n == 1) return 0;
        // Tokens below (1 - p) / (n - 1) cannot be in the nucleus (together they hold less than 1 - p), so only
        // the rest are ranked (llama2.c's trick). Keys sort by probability descending, then id ascending.
        float cutoff = _options.TopP < 1 ? (1 - _options.TopP) / (n - 1) : 0;
        Span<ulong> keys = _keys.AsSpan(0, n);
        int count = 0;
        for (int i = 0; i < n; i++)
            if (probs[i] >= cutoff) keys[count++] = ((ulong)(uint.MaxValue - BitConverter.SingleToUInt32Bits(probs[i])) << 32) | (uint)i;
        if (count == 0) return Argmax(probs);
        keys = keys[..count];
        keys.Sort();

        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, count) : count;
        float mass = 0;
        for (int i = 0; i < kept; i++) mass += probs[(int)(uint)keys[i]];
        if (_options.TopP < 1)
        {
            // Smallest prefix whose share of the (top-k renormalised) mass reaches p.
            float cumulative = 0;
            for (int i = 0; i < kept; i++)
            {
                cumulative += probs[(int)(uint)keys[i]];
                if (cumulative >= _options.TopP * mass)
                {
                    kept = i + 1;
                    mass = cumulative;
                    break;
                }
            }
        }

        float target = coin * mass, cdf = 0;
        for (int i = 0; i < kept; i++)
        {
            cdf += probs[(int)(uint)keys[i]];
            if (target < cdf) return (int)(uint)keys[i];
        }
        return (int)(uint)keys[kept - 1];
    }

    private static int LastNonZero(ReadOnlySpan<float> probs)
    {
        for (int i = probs.Length - 1; i > 0; i--)
            if (probs[i] > 0) return i;
        return 0;
    }
}
