using CodecLlm.Model;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// The tensors a Llama-family decoder has under the canonical (Hugging Face) names, with the shapes its
/// config implies. Every loader checks what it found against this list, so a missing or misshapen tensor is
/// reported at load time by name instead of surfacing as garbage output.
/// </summary>
public static class LlamaTensorLayout
{
    /// <summary>Every tensor the model needs, in checkpoint order, with its row-major shape.</summary>
    public static IEnumerable<(string Name, long[] Shape)> Expected(ModelConfig c)
    {
        long h = c.HiddenSize, q = c.QDim, kv = c.KvDim, ff = c.IntermediateSize, v = c.VocabSize;
        yield return (TensorNames.Embedding, [v, h]);
        for (int l = 0; l < c.NumLayers; l++)
        {
            yield return (TensorNames.AttnNorm(l), [h]);
            yield return (TensorNames.Q(l), [q, h]);
            yield return (TensorNames.K(l), [kv, h]);
            yield return (TensorNames.V(l), [kv, h]);
            if (c.AttentionBias)
            {
                yield return (TensorNames.QBias(l), [q]);
                yield return (TensorNames.KBias(l), [kv]);
                yield return (TensorNames.VBias(l), [kv]);
            }
            yield return (TensorNames.O(l), [h, q]);
            yield return (TensorNames.MlpNorm(l), [h]);
            yield return (TensorNames.Gate(l), [ff, h]);
            yield return (TensorNames.Up(l), [ff, h]);
            yield return (TensorNames.Down(l), [h, ff]);
        }
        yield return (TensorNames.FinalNorm, [h]);
        if (!c.TiedEmbeddings) yield return (TensorNames.LmHead, [v, h]);
    }

    /// <summary>
    /// Throws <see cref="ModelFormatException"/> naming the first expected tensor that is missing or has the
    /// wrong shape.
    /// </summary>
    public static void Validate(string source, ModelConfig config, IReadOnlyDictionary<string, ModelTensor> tensors)
    {
        foreach ((string name, long[] shape) in Expected(config))
        {
            if (!tensors.TryGetValue(name, out ModelTensor? t))
                throw new ModelFormatException($"{source}: tensor '{name}' is missing");
            if (!t.Shape.SequenceEqual(shape))
                throw new ModelFormatException($"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}] from the config");
        }
    }
}
