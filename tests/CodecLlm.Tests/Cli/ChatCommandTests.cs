using System.Text.RegularExpressions;
using CodecLlm.Chat;
using CodecLlm.Tests.Chat;
using Microsoft.Extensions.AI;

namespace CodecLlm.Tests.Cli;

/// <summary>
/// `codecllm chat` (stdin lines are user messages, one reply a stdout line) against the chat client run with the same
/// conversation and every prompt run whole (no prompt cache), on stories260K greedy.
/// </summary>
public partial class ChatCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"prompt (\d+) tokens \((\d+) cached\)")]
    private static partial Regex TurnStats();

    private static async Task<string> Reply(CodecLlmChatClient client, List<ChatMessage> history, string user)
    {
        history.Add(new ChatMessage(ChatRole.User, user));
        string reply = (await client.GetResponseAsync(history, new ChatOptions { Temperature = 0, MaxOutputTokens = 24 }, Ct)).Text;
        history.Add(new ChatMessage(ChatRole.Assistant, reply));
        return reply;
    }

    [Fact]
    public async Task Conversation_IsTheChatClients_EachTurnRunsOnlyWhatItAdds_AndResetStartsOver()
    {
        (int code, string stdout, string stderr) = CliProcess.RunWithInput("Once upon a time\n\nLily found a ball\n/reset\nOnce upon a time\n/exit\nnever read\n",
            "chat", "--model", TestPaths.Stories260KBin, "--max-tokens", "24");
        Assert.True(code == 0, stderr);

        using CodecLlmChatClient whole = ChatTestModels.Stories260K(promptCache: false);
        List<ChatMessage> history = [];
        string r1 = await Reply(whole, history, "Once upon a time"), r2 = await Reply(whole, history, "Lily found a ball");
        Assert.Equal([r1, r2, r1], stdout.Split('\n')[..^1]);  // blank lines skipped, /reset, nothing after /exit

        List<(int Prompt, int Cached)> turns = TurnStats().Matches(stderr).Select(m => (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(3, turns.Count);
        Assert.Equal(0, turns[0].Cached);
        Assert.InRange(turns[1].Cached, turns[0].Prompt + 20, turns[1].Prompt - 1);  // the first turn and (nearly) all its reply
        Assert.Equal(turns[0].Prompt - 1, turns[2].Cached);  // after /reset the same first message: all but its last token
        Assert.Contains("new conversation", stderr);
    }

    [Fact]
    public async Task ConversationLongerThanTheContext_DropsItsOldestExchanges_AndGoesOn()
    {
        string[] messages = ["Once upon a time", "Lily found a ball", "Tom ran to the park", "The sun was hot"];
        (int code, string stdout, string stderr) = CliProcess.RunWithInput(string.Join('\n', messages) + "\n",
            "chat", "--model", TestPaths.Stories260KBin, "--max-tokens", "24", "--context", "96", "--system", "Be kind");
        Assert.True(code == 0, stderr);
        Assert.Contains("dropped its 2 oldest messages", stderr);
        string[] replies = stdout.Split('\n')[..^1];
        Assert.Equal(messages.Length, replies.Length);

        // The same conversation in the client (the same context): the system message, then the exchanges the command kept.
        using CodecLlmChatClient whole = ChatTestModels.Stories260K(promptCache: false, context: 96);
        List<ChatMessage> history = [new(ChatRole.System, "Be kind")];
        for (int i = 0; i < messages.Length; i++)
        {
            history.Add(new ChatMessage(ChatRole.User, messages[i]));
            while (whole.CountPromptTokens(whole.RenderPrompt(history), fromTemplate: true) >= 96) history.RemoveRange(1, 2);
            history.RemoveAt(history.Count - 1);
            Assert.Equal(await Reply(whole, history, messages[i]), replies[i]);
        }
    }

    [Fact]
    public void MessageThatCannotFit_IsOneErrorLine_TheChatGoesOn_AndTheExitCodeSaysSo()
    {
        string tooLong = string.Join(' ', Enumerable.Repeat("Once upon a time there was a ball.", 40));
        (int code, string stdout, string stderr) = CliProcess.RunWithInput(tooLong + "\nOnce upon a time\n",
            "chat", "--model", TestPaths.Stories260KBin, "--max-tokens", "8", "--context", "96");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("does not fit the context of 96 tokens", stderr);
        Assert.Single(stdout.Split('\n')[..^1]);  // the second message is answered
        Assert.Single(TurnStats().Matches(stderr));
    }

    [Fact]
    public void MissingModel_ExitsWithOneLineOnStderr()
    {
        string missing = Path.Combine(TestPaths.NewTempDir(), "no-such-model.bin");
        (int code, string stdout, string stderr) = CliProcess.RunWithInput("hi\n", "chat", "--model", missing);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no-such-model.bin", stderr);
    }
}
