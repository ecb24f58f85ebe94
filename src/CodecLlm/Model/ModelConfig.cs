namespace CodecLlm.Model;

/// <summary>
/// The architecture hyper-parameters of a Llama-family decoder, in Hugging Face terms. Every loader fills
/// one of these; every backend runs from one.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>"llama", "mistral" or "qwen2".</summary>
    public required string Architecture { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumHeads { get; init; }

    public required int NumKvHeads { get; init; }

    public required int VocabSize { get; init; }

    /// <summary>Head dimension; HiddenSize / NumHeads unless the checkpoint says otherwise.</summary>
    public int HeadDim { get => _headDim ?? HiddenSize / NumHeads; init => _headDim = value; }

    private readonly int? _headDim;

    /// <summary>Longest sequence the model supports (max_position_embeddings / seq_len / context_length).</summary>
    public int MaxSequenceLength { get; init; } = 2048;

    public float RopeTheta { get; init; } = 10000f;

    public RopeScaling? RopeScaling { get; init; }

    public RopeStyle RopeStyle { get; init; } = RopeStyle.HalfSplit;

    public float RmsNormEps { get; init; } = 1e-5f;

    /// <summary>True when the output head shares the token embedding (no lm_head.weight tensor).</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>True when q/k/v projections carry biases (Qwen2).</summary>
    public bool AttentionBias { get; init; }

    public int BosTokenId { get; init; } = 1;

    public IReadOnlyList<int> EosTokenIds { get; init; } = [2];

    /// <summary>
    /// Sliding-window attention (Mistral's and Qwen2's <c>sliding_window</c>): a query at position p attends to positions
    /// p - SlidingWindow + 1 .. p only, in the layers <see cref="SlidingLayers"/> names (all when null). 0: every query
    /// attends to every earlier position.
    /// </summary>
    public int SlidingWindow { get; init; }

    /// <summary>Per layer, whether it uses <see cref="SlidingWindow"/> (Qwen2's layers from max_window_layers on); null: all.</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    /// <summary>The attention window of layer <paramref name="layer"/> in positions; 0 when it attends to every earlier position.</summary>
    public int AttentionWindow(int layer) =>
        SlidingWindow > 0 && (SlidingLayers is null || SlidingLayers[layer]) ? SlidingWindow : 0;

    /// <summary>The first position a query at <paramref name="pos"/> attends to in layer <paramref name="layer"/>.</summary>
    public int FirstAttendedPosition(int layer, int pos)
    {
        int w = AttentionWindow(layer);
        return w > 0 ? Math.Max(0, pos - w + 1) : 0;
    }

    public int KvDim => NumKvHeads * HeadDim;

    public int QDim => NumHeads * HeadDim;
}
