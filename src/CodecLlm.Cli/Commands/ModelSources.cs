using CodecLlm.Formats;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>How the codec verbs (compress, verify --against) open models: through <see cref="ModelLoader"/> when a format recognises the path.</summary>
internal static class ModelSources
{
    public static bool IsModel(string path) => ModelLoader.Formats.Any(f => f.CanLoad(path));

    public static LoadedModel Load(string path, ModelLoadOptions options) => ModelLoader.Load(path, options);
}
