using System.Text.Json;
using System.Text.Json.Serialization;
using CodecLlm.Model;

namespace CodecLlm.Formats.Compressed;

/// <summary>The <c>__metadata__</c> keys of a compressed model file and their JSON encodings (docs/FORMAT.md).</summary>
public static class CompressedModelMetadata
{
    public const string FormatName = "codecllm";
    public const int FormatVersion = 1;

    public const string FormatKey = "format";
    public const string VersionKey = "format_version";
    public const string ConfigKey = "codecllm.config";
    public const string TensorsKey = "codecllm.tensors";
    public const string TokenizerKindKey = "codecllm.tokenizer_kind";
    public const string ChatTemplateKey = "codecllm.chat_template";

    /// <summary>Tokenizer files are stored as U8 tensors named with this prefix plus the file name.</summary>
    public const string TokenizerTensorPrefix = "__tokenizer__/";

    public static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string SerializeConfig(ModelConfig config) => JsonSerializer.Serialize(config, Json);

    public static ModelConfig DeserializeConfig(string json, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new ModelFormatException($"{path}: model config metadata is null");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: model config metadata is corrupt: {e.Message}", e);
        }
    }

    public static string SerializeTensors(IEnumerable<CompressedTensorInfo> tensors) => JsonSerializer.Serialize(tensors.ToArray(), Json);

    public static CompressedTensorInfo[] DeserializeTensors(string json, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<CompressedTensorInfo[]>(json, Json) ?? throw new ModelFormatException($"{path}: tensor metadata is null");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: tensor metadata is corrupt: {e.Message}", e);
        }
    }
}
