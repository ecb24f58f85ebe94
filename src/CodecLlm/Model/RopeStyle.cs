namespace CodecLlm.Model;

/// <summary>
/// How rotary position embedding pairs the dimensions of a head.
/// llama2.c and GGUF checkpoints rotate adjacent pairs (2i, 2i+1); Hugging Face checkpoints rotate
/// (i, i + headDim/2) ("rotate half"), because HF's conversion permutes the q/k rows.
/// </summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): llama2.c, GGUF (llama.cpp), Meta's original checkpoints.</summary>
    Interleaved,

    /// <summary>Split halves (i, i + d/2): Hugging Face transformers ("rotate_half", GPT-NeoX style).</summary>
    HalfSplit,
}

/// <summary>Llama 3 style frequency scaling (<c>rope_scaling.rope_type == "llama3"</c>).</summary>
public sealed record RopeScaling(
    string Type,
    float Factor,
    float LowFreqFactor,
    float HighFreqFactor,
    int OriginalMaxPositionEmbeddings);
