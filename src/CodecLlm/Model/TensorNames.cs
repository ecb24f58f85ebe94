namespace CodecLlm.Model;

/// <summary>
/// Canonical tensor names: the Hugging Face Llama names. Every loader maps its format's names onto these,
/// so the engine, the codecs and the compressed file speak one vocabulary.
/// Matrices are stored row-major as [out_features, in_features].
/// </summary>
public static class TensorNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string AttnNorm(int layer) => $"model.layers.{layer}.input_layernorm.weight";
    public static string Q(int layer) => $"model.layers.{layer}.self_attn.q_proj.weight";
    public static string K(int layer) => $"model.layers.{layer}.self_attn.k_proj.weight";
    public static string V(int layer) => $"model.layers.{layer}.self_attn.v_proj.weight";
    public static string O(int layer) => $"model.layers.{layer}.self_attn.o_proj.weight";
    public static string QBias(int layer) => $"model.layers.{layer}.self_attn.q_proj.bias";
    public static string KBias(int layer) => $"model.layers.{layer}.self_attn.k_proj.bias";
    public static string VBias(int layer) => $"model.layers.{layer}.self_attn.v_proj.bias";
    public static string MlpNorm(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";
    public static string Gate(int layer) => $"model.layers.{layer}.mlp.gate_proj.weight";
    public static string Up(int layer) => $"model.layers.{layer}.mlp.up_proj.weight";
    public static string Down(int layer) => $"model.layers.{layer}.mlp.down_proj.weight";

    /// <summary>The group a tensor belongs to for <c>--tensors</c>: attn, mlp, embed, head, norm, or other.</summary>
    public static string GroupOf(string name)
    {
        if (name == Embedding) return "embed";
        if (name == LmHead) return "head";
        if (name.Contains(".self_attn.", StringComparison.Ordinal)) return "attn";
        if (name.Contains(".mlp.", StringComparison.Ordinal)) return "mlp";
        if (name.EndsWith("norm.weight", StringComparison.Ordinal)) return "norm";
        return "other";
    }
}
