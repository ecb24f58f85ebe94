using System.Text.Json;
using System.Text.RegularExpressions;
using CodecLlm.Model;

namespace CodecLlm.Tokenization;

/// <summary>
/// The tokenizer of a Hugging Face model directory: <c>tokenizer.model</c> (SentencePiece) when present and
/// readable, else <c>tokenizer.json</c> with a BPE model, byte-level (Llama 3, Qwen2) or SentencePiece-like
/// (Metaspace '▁' with byte fallback: TinyLlama, Llama 2). BOS/EOS and add_bos_token come from
/// tokenizer_config.json, extra EOS ids from generation_config.json.
/// </summary>
public static class HuggingFaceTokenizer
{
    public const string SourceKind = "hf-tokenizer-json";
    public const string JsonFileName = "tokenizer.json";
    public const string ConfigFileName = "tokenizer_config.json";
    public const string GenerationConfigFileName = "generation_config.json";

    private static readonly string[] FileNames = [SentencePieceModelTokenizer.FileName, JsonFileName, ConfigFileName, GenerationConfigFileName];

    /// <summary>Null when the directory has neither tokenizer.model nor tokenizer.json.</summary>
    public static ITokenizer? FromDirectory(string directory)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string name in FileNames)
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path)) files[name] = TokenizerFactory.ReadTokenizerFile(path);
        }

        return files.ContainsKey(SentencePieceModelTokenizer.FileName) || files.ContainsKey(JsonFileName) ? FromFiles(files, directory) : null;
    }

    /// <summary>Builds from the files of a directory (or of a <see cref="TokenizerSource"/>); <paramref name="name"/> is for messages.</summary>
    public static ITokenizer FromFiles(IReadOnlyDictionary<string, byte[]> files, string name)
    {
        Config config = Config.Read(files, name);
        if (files.TryGetValue(SentencePieceModelTokenizer.FileName, out byte[]? model))
        {
            try
            {
                return WithConfig(SentencePieceModelTokenizer.Create(model, Path.Combine(name, SentencePieceModelTokenizer.FileName)), config, files);
            }
            catch (ModelFormatException) when (files.ContainsKey(JsonFileName))
            {
                // Not a SentencePiece protobuf (some repositories ship other formats under this name): use tokenizer.json.
            }
        }

        if (!files.TryGetValue(JsonFileName, out byte[]? json))
            throw new TokenizerNotFoundException($"'{name}' has no {JsonFileName} or {SentencePieceModelTokenizer.FileName}");
        return FromTokenizerJson(json, config, files, Path.Combine(name, JsonFileName));
    }

    private static SentencePieceModelTokenizer WithConfig(SentencePieceModelTokenizer sp, Config config, IReadOnlyDictionary<string, byte[]> files)
    {
        int bos = config.BosToken is { } b && sp.TokenToId(b) is { } bosId ? bosId : sp.BosTokenId;
        var eos = new List<int>();
        if (config.EosToken is { } e && sp.TokenToId(e) is { } eosId) eos.Add(eosId);
        eos.AddRange(config.ExtraEosIds.Where(id => !eos.Contains(id)));
        if (eos.Count == 0) eos.AddRange(sp.EosTokenIds);

        var extra = files.Where(f => f.Key != SentencePieceModelTokenizer.FileName && f.Key != JsonFileName).ToDictionary(f => f.Key, f => f.Value);
        return sp.WithSpecialTokens(bos, eos, config.AddBos ?? true, extra);
    }

    private static MergeBpeTokenizer FromTokenizerJson(byte[] json, Config config, IReadOnlyDictionary<string, byte[]> files, string name)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"'{name}' is not valid JSON: {e.Message}");
        }

        try
        {
            return Build(root, config, files, name);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new ModelFormatException($"'{name}' is not a tokenizer.json this engine can read: {e.Message}");
        }
    }

    private static MergeBpeTokenizer Build(JsonElement root, Config config, IReadOnlyDictionary<string, byte[]> files, string name)
    {
        JsonElement model = root.GetProperty("model");
        string type = model.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "" : "BPE";
        if (type != "BPE") throw new UnsupportedModelException($"'{name}': tokenizer model type '{type}' is not supported (BPE is)");

        // Vocabulary, plus added tokens (Llama 3's specials are only there).
        var byId = new Dictionary<int, string>();
        var byToken = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in model.GetProperty("vocab").EnumerateObject())
        {
            int id = p.Value.GetInt32();
            byId.TryAdd(id, p.Name);
            byToken.TryAdd(p.Name, id);
        }

        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        var silent = new HashSet<int>();
        var verbatim = new HashSet<int>();
        if (root.TryGetProperty("added_tokens", out JsonElement added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement a in added.EnumerateArray())
            {
                int id = a.GetProperty("id").GetInt32();
                string content = a.GetProperty("content").GetString() ?? throw new FormatException($"added token {id} has no content");
                byId[id] = content;
                byToken.TryAdd(content, id);
                special[content] = id;
                if (a.TryGetProperty("special", out JsonElement s) && s.ValueKind == JsonValueKind.True) silent.Add(id);
                else verbatim.Add(id);
            }
        }

        var tokens = new string?[byId.Count == 0 ? 0 : byId.Keys.Max() + 1];
        foreach ((int id, string token) in byId)
        {
            if (id < 0) throw new FormatException($"token '{token}' has negative id {id}");
            tokens[id] = token;
        }

        var merges = ReadMerges(model);
        var pipeline = Pipeline.Read(root, name);

        int bos = config.BosToken is { } b && byToken.TryGetValue(b, out int bosId) ? bosId
            : pipeline.TemplateBos is { } tb && byToken.TryGetValue(tb, out int tbId) ? tbId
            : -1;
        var eos = new List<int>();
        if (config.EosToken is { } e && byToken.TryGetValue(e, out int eosId)) eos.Add(eosId);
        eos.AddRange(config.ExtraEosIds.Where(id => !eos.Contains(id)));
        if (eos.Count == 0)
        {
            foreach (string guess in (string[])["</s>", "<|end_of_text|>", "<|endoftext|>"])
            {
                if (byToken.TryGetValue(guess, out int g)) { eos.Add(g); break; }
            }
        }

        if (bos >= 0) silent.Add(bos);
        foreach (int id in eos) silent.Add(id);
        bool addBos = bos >= 0 && (config.AddBos ?? (pipeline.TemplateBos != null || pipeline.Mode == MergeBpeMode.Metaspace));

        string? unk = model.TryGetProperty("unk_token", out JsonElement u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        return new MergeBpeTokenizer(new MergeBpeOptions
        {
            Tokens = tokens,
            Merges = merges,
            Mode = pipeline.Mode,
            PreTokenizer = pipeline.Split,
            AddPrefixSpace = pipeline.AddPrefixSpace,
            Prepend = pipeline.Prepend,
            PrependOnlyIfMissing = pipeline.PrependOnlyIfMissing,
            SplitOnMetaspace = pipeline.SplitOnMetaspace,
            NormalizeNfc = pipeline.Nfc,
            ByteFallback = Bool(model, "byte_fallback"),
            IgnoreMerges = Bool(model, "ignore_merges"),
            UnknownTokenId = unk != null && byToken.TryGetValue(unk, out int unkId) ? unkId : -1,
            SpecialTokens = special,
            SilentTokens = silent,
            VerbatimTokens = verbatim,
            BosTokenId = bos,
            EosTokenIds = eos,
            AddBos = addBos,
            Source = new TokenizerSource(SourceKind, files.Where(f => f.Key != SentencePieceModelTokenizer.FileName).ToDictionary(f => f.Key, f => f.Value)),
        });
    }

    /// <summary>Merges as "a b" strings (older tokenizers) or ["a", "b"] pairs (tokenizers 0.20+).</summary>
    private static List<(string, string)> ReadMerges(JsonElement model)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out JsonElement m) || m.ValueKind != JsonValueKind.Array) return merges;
        foreach (JsonElement merge in m.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                merges.Add((merge[0].GetString()!, merge[1].GetString()!));
                continue;
            }

            string s = merge.GetString() ?? "";
            string[] parts = s.Split(' ');
            if (parts.Length != 2) throw new FormatException($"merge '{s}' is not two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
        }

        return merges;
    }

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;

    /// <summary>What tokenizer.json's normalizer, pre_tokenizer, decoder and post_processor amount to.</summary>
    private sealed class Pipeline
    {
        public MergeBpeMode Mode { get; private set; } = MergeBpeMode.ByteLevel;
        public Regex? Split { get; private set; }
        public bool AddPrefixSpace { get; private set; }
        public MetaspacePrepend Prepend { get; private set; } = MetaspacePrepend.Never;
        public bool PrependOnlyIfMissing { get; private set; }
        public bool SplitOnMetaspace { get; private set; }
        public bool Nfc { get; private set; }
        public string? TemplateBos { get; private set; }

        private bool _byteLevel;
        private bool _metaspace;
        private bool _byteLevelRegex;

        public static Pipeline Read(JsonElement root, string name)
        {
            var p = new Pipeline();
            if (root.TryGetProperty("normalizer", out JsonElement n)) p.Normalizer(n, name);
            if (root.TryGetProperty("pre_tokenizer", out JsonElement pre)) p.PreTokenizer(pre, name);
            if (root.TryGetProperty("decoder", out JsonElement d)) p.Decoder(d);
            if (root.TryGetProperty("post_processor", out JsonElement post)) p.PostProcessor(post);

            if (p._byteLevel)
            {
                p.Mode = MergeBpeMode.ByteLevel;
                if (p.Split == null && p._byteLevelRegex) p.Split = PreTokenizerPatterns.Compile(PreTokenizerPatterns.Gpt2);
            }
            else if (p._metaspace)
            {
                p.Mode = MergeBpeMode.Metaspace;
            }
            else
            {
                throw new UnsupportedModelException($"'{name}': BPE without a ByteLevel or Metaspace ('▁') pipeline is not supported");
            }

            return p;
        }

        private void Normalizer(JsonElement n, string name)
        {
            if (n.ValueKind != JsonValueKind.Object) return;
            switch (n.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (JsonElement child in n.GetProperty("normalizers").EnumerateArray()) Normalizer(child, name);
                    break;
                case "NFC":
                    Nfc = true;
                    break;
                case "Prepend" when n.GetProperty("prepend").GetString() == "\u2581":
                    (_metaspace, Prepend, PrependOnlyIfMissing) = (true, MetaspacePrepend.Always, false);
                    break;
                case "Replace" when n.GetProperty("content").GetString() == "\u2581":
                    _metaspace = true;
                    break;
                case var other:
                    throw new UnsupportedModelException($"'{name}': normalizer '{other}' is not supported");
            }
        }

        private void PreTokenizer(JsonElement p, string name)
        {
            if (p.ValueKind != JsonValueKind.Object) return;
            switch (p.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (JsonElement child in p.GetProperty("pretokenizers").EnumerateArray()) PreTokenizer(child, name);
                    break;
                case "ByteLevel":
                    _byteLevel = true;
                    AddPrefixSpace = Bool(p, "add_prefix_space");
                    _byteLevelRegex = !p.TryGetProperty("use_regex", out JsonElement r) || r.ValueKind != JsonValueKind.False;
                    break;
                case "Split":
                    if (Split != null) throw new UnsupportedModelException($"'{name}': more than one Split pre-tokenizer is not supported");
                    if (Bool(p, "invert")) throw new UnsupportedModelException($"'{name}': an inverted Split pre-tokenizer is not supported");
                    JsonElement pattern = p.GetProperty("pattern");
                    string regex = pattern.TryGetProperty("Regex", out JsonElement re) ? re.GetString()! : Regex.Escape(pattern.GetProperty("String").GetString()!);
                    try
                    {
                        Split = PreTokenizerPatterns.Compile(regex);
                    }
                    catch (ArgumentException e)
                    {
                        throw new ModelFormatException($"'{name}': Split pattern does not compile: {e.Message}");
                    }

                    break;
                case "Metaspace":
                    _metaspace = true;
                    string scheme = p.TryGetProperty("prepend_scheme", out JsonElement ps) ? ps.GetString() ?? "always"
                        : p.TryGetProperty("add_prefix_space", out JsonElement aps) && aps.ValueKind == JsonValueKind.False ? "never" : "always";
                    Prepend = scheme switch { "first" => MetaspacePrepend.First, "never" => MetaspacePrepend.Never, _ => MetaspacePrepend.Always };
                    PrependOnlyIfMissing = true;
                    SplitOnMetaspace = !p.TryGetProperty("split", out JsonElement sp) || sp.ValueKind != JsonValueKind.False;
                    break;
                case var other:
                    throw new UnsupportedModelException($"'{name}': pre-tokenizer '{other}' is not supported");
            }
        }

        private void Decoder(JsonElement d)
        {
            if (d.ValueKind != JsonValueKind.Object) return;
            switch (d.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (JsonElement child in d.GetProperty("decoders").EnumerateArray()) Decoder(child);
                    break;
                case "ByteLevel":
                    _byteLevel = true;
                    break;
            }
        }

        private void PostProcessor(JsonElement p)
        {
            if (p.ValueKind != JsonValueKind.Object) return;
            switch (p.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (JsonElement child in p.GetProperty("processors").EnumerateArray()) PostProcessor(child);
                    break;
                case "TemplateProcessing" when p.TryGetProperty("single", out JsonElement single) && single.GetArrayLength() > 0:
                    if (single[0].TryGetProperty("SpecialToken", out JsonElement st)) TemplateBos = st.GetProperty("id").GetString();
                    break;
            }
        }
    }

    /// <summary>tokenizer_config.json (bos_token, eos_token, add_bos_token) and generation_config.json (eos_token_id).</summary>
    private sealed record Config(string? BosToken, string? EosToken, bool? AddBos, IReadOnlyList<int> ExtraEosIds)
    {
        public static Config Read(IReadOnlyDictionary<string, byte[]> files, string name)
        {
            string? bos = null, eos = null;
            bool? addBos = null;
            var extraEos = new List<int>();
            if (files.TryGetValue(ConfigFileName, out byte[]? config))
            {
                JsonElement c = Parse(config, Path.Combine(name, ConfigFileName));
                bos = TokenText(c, "bos_token");
                eos = TokenText(c, "eos_token");
                if (c.TryGetProperty("add_bos_token", out JsonElement a) && a.ValueKind is JsonValueKind.True or JsonValueKind.False) addBos = a.GetBoolean();
            }

            if (files.TryGetValue(GenerationConfigFileName, out byte[]? generation))
            {
                JsonElement g = Parse(generation, Path.Combine(name, GenerationConfigFileName));
                if (g.TryGetProperty("eos_token_id", out JsonElement e))
                {
                    if (e.ValueKind == JsonValueKind.Number) extraEos.Add(e.GetInt32());
                    else if (e.ValueKind == JsonValueKind.Array) extraEos.AddRange(e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32()));
                }
            }

            return new Config(bos, eos, addBos, extraEos);
        }

        private static JsonElement Parse(byte[] json, string name)
        {
            try
            {
                JsonElement root = JsonDocument.Parse(json).RootElement;
                return root.ValueKind == JsonValueKind.Object ? root : throw new ModelFormatException($"'{name}' is not a JSON object");
            }
            catch (JsonException e)
            {
                throw new ModelFormatException($"'{name}' is not valid JSON: {e.Message}");
            }
        }

        /// <summary>A token named as a string or as an AddedToken object with "content".</summary>
        private static string? TokenText(JsonElement config, string key) =>
            !config.TryGetProperty(key, out JsonElement v) ? null
            : v.ValueKind == JsonValueKind.String ? v.GetString()
            : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out JsonElement c) ? c.GetString()
            : null;
    }
}
