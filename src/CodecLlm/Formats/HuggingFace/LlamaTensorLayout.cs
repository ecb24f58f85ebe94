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
        ValidateConfig(source, config);
        foreach ((string name, long[] shape) in Expected(config))
        {
            if (!tensors.TryGetValue(name, out ModelTensor? t))
                throw new ModelFormatException($"{source}: tensor '{name}' is missing");
            if (!t.Shape.SequenceEqual(shape))
                throw new ModelFormatException($"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}] from the config");
        }
    }

    /// <summary>Throws <see cref="ModelFormatException"/> when the hyper-parameters cannot describe a working model.</summary>
    public static void ValidateConfig(string source, ModelConfig c)
    {
        if (c.HiddenSize <= 0 || c.IntermediateSize <= 0 || c.NumLayers <= 0 || c.NumHeads <= 0 || c.NumKvHeads <= 0 || c.VocabSize <= 0)
            throw new ModelFormatException($"{source}: config has a non-positive size (hidden {c.HiddenSize}, intermediate {c.IntermediateSize}, layers {c.NumLayers}, heads {c.NumHeads}, kv heads {c.NumKvHeads}, vocab {c.VocabSize})");
        if (c.NumHeads % c.NumKvHeads != 0)
            throw new ModelFormatException($"{source}: {c.NumHeads} attention heads are not a multiple of {c.NumKvHeads} key/value heads");
        if (c.HeadDim <= 0 || c.HeadDim % 2 != 0)
            throw new ModelFormatException($"{source}: head dimension {c.HeadDim} must be positive and even (rope rotates pairs)");
        if (c.SlidingWindow < 0 || (c.SlidingLayers != null && c.SlidingLayers.Count != c.NumLayers))
            throw new ModelFormatException($"{source}: sliding window {c.SlidingWindow} over {c.SlidingLayers?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} layers does not fit a model of {c.NumLayers} layers");
    }
}
