namespace CodecLlm.Engine;

/// <summary>
/// The sampler's pseudo-random numbers: xorshift64* (as llama2.c's random_u32), seeded through SplitMix64 so
/// that every seed, 0 included, gives a well-mixed non-zero state. Same seed, same sequence, on every machine.
/// </summary>
public sealed class SamplerRandom
{
    private ulong _state;

    public SamplerRandom(ulong seed)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        _state = z ^ (z >> 31);
        if (_state == 0) _state = 0x9E3779B97F4A7C15UL;
    }

    public uint NextUInt32()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return (uint)((_state * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>A float in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt32() >> 8) / 16777216f;
}
