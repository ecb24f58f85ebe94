using CodecLlm.Model;

namespace CodecLlm.Formats.Gguf;

/// <summary>
/// llama.cpp's tensor names (token_embd, blk.N.attn_q, ...) mapped to the canonical Hugging Face names.
/// </summary>
public static class GgufTensorNames
{
    /// <summary>llama.cpp's per-dimension rope frequency factors (Llama 3.1+ rope scaling).</summary>
    public const string RopeFreqs = "rope_freqs.weight";

    /// <summary>The canonical name of a GGUF tensor, or null when it is not part of a Llama/Qwen2 decoder.</summary>
    public static string? ToCanonical(string ggufName)
    {
        switch (ggufName)
        {
            case "token_embd.weight": return TensorNames.Embedding;
            case "output_norm.weight": return TensorNames.FinalNorm;
            case "output.weight": return TensorNames.LmHead;
        }
        if (!ggufName.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int dot = ggufName.IndexOf('.', 4);
        if (dot < 0 || !int.TryParse(ggufName.AsSpan(4, dot - 4), System.Globalization.NumberStyles.None, null, out int l)) return null;
        return ggufName[(dot + 1)..] switch
        {
            "attn_norm.weight" => TensorNames.AttnNorm(l),
            "attn_q.weight" => TensorNames.Q(l),
            "attn_k.weight" => TensorNames.K(l),
            "attn_v.weight" => TensorNames.V(l),
            "attn_q.bias" => TensorNames.QBias(l),
            "attn_k.bias" => TensorNames.KBias(l),
            "attn_v.bias" => TensorNames.VBias(l),
            "attn_output.weight" => TensorNames.O(l),
            "ffn_norm.weight" => TensorNames.MlpNorm(l),
            "ffn_gate.weight" => TensorNames.Gate(l),
            "ffn_up.weight" => TensorNames.Up(l),
            "ffn_down.weight" => TensorNames.Down(l),
            _ => null,
        };
    }
}
