using CodecLlm.Formats;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>How the codec verbs (compress, verify --against) open models: through the model loaders when they recognise the path.</summary>
internal static class ModelSources
{
    public static bool IsModel(string path) => false;

    public static LoadedModel Load(string path, ModelLoadOptions options) =>
        throw new UnsupportedModelException($"{path}: model loaders are not available in this build");
}
