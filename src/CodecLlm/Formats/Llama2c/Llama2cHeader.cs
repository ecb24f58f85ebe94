using CodecLlm.Model;

namespace CodecLlm.Formats.Llama2c;

/// <summary>
/// The 28-byte header of a llama2.c checkpoint ("legacy" export, version 0): seven little-endian int32
/// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len). A negative vocab_size means the
/// file ends with a separate classifier matrix; a positive one means the classifier shares the embedding.
/// </summary>
public readonly record struct Llama2cHeader(int Dim, int HiddenDim, int NumLayers, int NumHeads, int NumKvHeads, int VocabSize, int SeqLen,
    bool SharedClassifier)
{
    public const int ByteSize = 7 * sizeof(int);

    /// <summary>The "ak42" magic of llama2.c's later export versions (1 and 2), which this loader does not read.</summary>
    public const uint VersionedMagic = 0x616b3432;

    public int HeadSize => Dim / NumHeads;

    public int KvDim => NumKvHeads * HeadSize;

    /// <summary>Reads the header; null when the bytes cannot be a llama2.c header (wrong size or implausible values).</summary>
    public static Llama2cHeader? TryParse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < ByteSize) return null;
        Span<int> h = stackalloc int[7];
        for (int i = 0; i < 7; i++) h[i] = BitConverter.ToInt32(bytes.Slice(i * 4, 4));
        int dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4], vocab = h[5], seqLen = h[6];
        bool shared = vocab > 0;
        vocab = Math.Abs(vocab);
        bool plausible = dim > 0 && hidden > 0 && layers > 0 && heads > 0 && kvHeads > 0 && vocab > 0 && seqLen > 0
            && dim <= 1 << 16 && hidden <= 1 << 18 && layers <= 1024 && vocab <= 1 << 22 && seqLen <= 1 << 24
            && dim % heads == 0 && kvHeads <= heads && heads % kvHeads == 0;
        return plausible ? new Llama2cHeader(dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared) : null;
    }

    /// <summary>Number of float32 values that follow the header, classifier included when it is separate.</summary>
    public long ExpectedFloatCount
    {
        get
        {
            long d = Dim, h = HiddenDim, kv = KvDim;
            long perLayer = d + d * d + 2 * d * kv + d * d + d + 3 * d * h;
            long total = (long)VocabSize * d + NumLayers * perLayer + d + FreqCisFloatCount;
            if (!SharedClassifier) total += (long)VocabSize * d;
            return total;
        }
    }

    /// <summary>Floats of the unused freq_cis_real and freq_cis_imag tables together.</summary>
    public long FreqCisFloatCount => 2 * ((long)SeqLen * HeadSize / 2);

    public override string ToString() =>
        $"dim {Dim}, hidden_dim {HiddenDim}, n_layers {NumLayers}, n_heads {NumHeads}, n_kv_heads {NumKvHeads}, vocab_size {(SharedClassifier ? VocabSize : -VocabSize)}, seq_len {SeqLen}";
}
