using CodecLlm.Chat;

namespace CodecLlm.Tests.Chat;

/// <summary>
/// The real templates render the prompts transformers' apply_chat_template produces. Expected strings were
/// derived by hand from the template semantics (trim_blocks + lstrip_blocks) and agree with published
/// examples: TinyLlama's model card ("&lt;|system|&gt;\n...&lt;/s&gt;\n&lt;|user|&gt;\n...&lt;/s&gt;\n&lt;|assistant|&gt;\n"),
/// the Llama 2 and Mistral v0.1 outputs in llama.cpp's test-chat-template.cpp, and Python Jinja2 3.1.6.
/// </summary>
public class ChatTemplateTests
{
    private static readonly ChatMessageText System = new("system", "You are a helpful assistant");
    private static readonly ChatMessageText Hello = new("user", "Hello");
    private static readonly ChatMessageText HiThere = new("assistant", " Hi there ");
    private static readonly ChatMessageText WhoAreYou = new("user", "Who are you");

    private static readonly ChatMessageText[] Full = [System, Hello, HiThere, WhoAreYou];
    private static readonly ChatMessageText[] NoSystem = [Hello, HiThere, WhoAreYou];

    private static string Render(string template, IReadOnlyList<ChatMessageText> messages, bool generationPrompt, string bos = "<s>", string eos = "</s>") =>
        ChatTemplate.FromJinja(template).Render(messages, generationPrompt, bos, eos);

    [Fact]
    public void TinyLlama_Zephyr()
    {
        Assert.Equal(
            "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\n Hi there </s>\n<|user|>\nWho are you</s>\n<|assistant|>\n",
            Render(RealChatTemplates.TinyLlamaChat, Full, true));
        Assert.Equal("<|user|>\nHello</s>\n", Render(RealChatTemplates.TinyLlamaChat, [Hello], false));
    }

    [Fact]
    public void Llama2_Chat()
    {
        Assert.Equal(
            "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST]",
            Render(RealChatTemplates.Llama2Chat, Full, true));
        Assert.Equal("<s>[INST] Hello [/INST] Hi there </s><s>[INST] Who are you [/INST]", Render(RealChatTemplates.Llama2Chat, NoSystem, true));
        Assert.Equal("<s>[INST] Hello [/INST]", Render(RealChatTemplates.Llama2Chat, [Hello], false));
    }

    [Fact]
    public void Llama2_RejectsRolesThatDoNotAlternate()
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render(RealChatTemplates.Llama2Chat, [Hello, WhoAreYou], true));
        Assert.Contains("Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void Llama3_Instruct()
    {
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            Render(RealChatTemplates.Llama3Instruct, Full, true, "<|begin_of_text|>", "<|eot_id|>"));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
            Render(RealChatTemplates.Llama3Instruct, [Hello], false, "<|begin_of_text|>", "<|eot_id|>"));
    }

    [Fact]
    public void Mistral_Instruct_WithWhitespaceControl()
    {
        Assert.Equal(
            "<s> [INST] You are a helpful assistant\n\nHello [/INST]  Hi there </s> [INST] Who are you [/INST]",
            Render(RealChatTemplates.MistralInstruct, Full, true));
        Assert.Equal("<s> [INST] Hello [/INST]  Hi there </s> [INST] Who are you [/INST]", Render(RealChatTemplates.MistralInstruct, NoSystem, true));
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render(RealChatTemplates.MistralInstruct, [Hello, WhoAreYou], true));
        Assert.Contains("After the optional system message, conversation roles must alternate", e.Message);
    }

    [Fact]
    public void Mistral_InstructV01_MatchesLlamaCppReference()
    {
        // llama.cpp tests/test-chat-template.cpp, conversation without its system message.
        ChatMessageText[] conversation =
        [
            new("user", "Hello"), new("assistant", "Hi there"), new("user", "Who are you"),
            new("assistant", "   I am an assistant   "), new("user", "Another question"),
        ];
        Assert.Equal(
            "<s>[INST] Hello [/INST]Hi there</s> [INST] Who are you [/INST]   I am an assistant   </s> [INST] Another question [/INST]",
            Render(RealChatTemplates.MistralInstructV01, conversation, true));
        Assert.Throws<ChatTemplateException>(() => Render(RealChatTemplates.MistralInstructV01, [System, Hello], true));
    }

    [Fact]
    public void Qwen2_ChatMl()
    {
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n Hi there <|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n",
            Render(RealChatTemplates.Qwen2Instruct, Full, true, "", "<|im_end|>"));
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n",
            Render(RealChatTemplates.Qwen2Instruct, [Hello], false, "", "<|im_end|>"));
    }

    [Fact]
    public void NoTemplate_UsesPlainFallback()
    {
        ChatTemplate fallback = ChatTemplate.FromJinja(null);
        Assert.True(fallback.IsFallback);
        Assert.Equal("System: You are a helpful assistant\nUser: Hello\nAssistant:", fallback.Render([System, Hello], true, "<s>", "</s>"));
        Assert.Equal("User: Hello\n", fallback.Render([Hello], false, "<s>", "</s>"));
        // a reply as generated after "Assistant:" (leading space) keeps its own space, not two
        Assert.Equal("User: Hello\nAssistant: Hi there\nAssistant:", fallback.Render([Hello, new ChatMessageText("assistant", " Hi there")], true, "<s>", "</s>"));
        Assert.True(ChatTemplate.FromJinja("  ").IsFallback);
    }
}
