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

    private static async Task<string> Reply(CodecLlmChatClient client, List<ChatMessage> history, string user, int maxTokens = 24)
    {
        history.Add(new ChatMessage(ChatRole.User, user));
        string reply = (await client.GetResponseAsync(history, new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens }, Ct)).Text;
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
        Assert.Equal(r1 + "\n" + r2 + "\n" + r1 + "\n", stdout);  // blank lines skipped, /reset, nothing after /exit

        List<(int Prompt, int Cached)> turns = TurnStats().Matches(stderr).Select(m => (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(3, turns.Count);
        Assert.Equal(0, turns[0].Cached);
        Assert.InRange(turns[1].Cached, turns[0].Prompt + 20, turns[1].Prompt - 1);  // the first turn and (nearly) all its reply
        Assert.Equal(turns[0].Prompt - 1, turns[2].Cached);  // after /reset the same first message: all but its last token
        Assert.Contains("new conversation", stderr);
    }

    /// <summary>The command's stderr, turn by turn: how many oldest messages it dropped before the turn, and its stats.</summary>
    private static List<(int Dropped, int Prompt, int Cached)> Turns(string stderr)
    {
        List<(int, int, int)> turns = [];
        int dropped = 0;
        foreach (string line in stderr.Split('\n'))
        {
            Match d = Regex.Match(line, @"dropped its (\d+) oldest messages"), t = TurnStats().Match(line);
            if (d.Success) dropped = int.Parse(d.Groups[1].Value);
            if (!t.Success) continue;
            turns.Add((dropped, int.Parse(t.Groups[1].Value), int.Parse(t.Groups[2].Value)));
            dropped = 0;
        }
        return turns;
    }

    [Fact]
    public async Task ConversationLongerThanTheContext_DropsItsOldestExchangesToHalfTheContext_AndGoesOn()
    {
        const int context = 128, maxTokens = 24;
        string[] messages = ["Once upon a time", "Lily found a ball", "Tom ran to the park", "The sun was hot", "Mom made a cake", "The dog barked"];
        (int code, string stdout, string stderr) = CliProcess.RunWithInput(string.Join('\n', messages) + "\n",
            "chat", "--model", TestPaths.Stories260KBin, "--max-tokens", $"{maxTokens}", "--context", $"{context}", "--system", "Be kind");
        Assert.True(code == 0, stderr);
        List<(int Dropped, int Prompt, int Cached)> turns = Turns(stderr);
        Assert.Equal(messages.Length, turns.Count);
        Assert.Contains(turns, t => t.Dropped > 0);

        // The same conversation in the client (the same context), dropping what the command says it dropped; the policy
        // checked on it: a turn drops only when its prompt leaves less than --max-tokens for the reply, whole exchanges
        // after the system message, down to at most half the context; the next turn then finds the kept part cached.
        using CodecLlmChatClient whole = ChatTestModels.Stories260K(promptCache: false, context: context);
        int Tokens(List<ChatMessage> h) => whole.CountPromptTokens(h);
        List<ChatMessage> history = [new(ChatRole.System, "Be kind")];
        System.Text.StringBuilder expected = new();  // each reply and a newline (a reply may hold newlines itself)
        for (int i = 0; i < messages.Length; i++)
        {
            history.Add(new ChatMessage(ChatRole.User, messages[i]));
            int dropped = turns[i].Dropped;
            Assert.Equal(dropped > 0, Tokens(history) + maxTokens > context);
            Assert.True(dropped % 2 == 0, $"turn {i}: {dropped} messages dropped, not whole exchanges");
            List<ChatMessage> oneExchangeLess = [.. history];
            oneExchangeLess.RemoveRange(1, Math.Max(0, dropped - 2));
            history.RemoveRange(1, dropped);
            Assert.Equal(Tokens(history), turns[i].Prompt);
            if (dropped > 0)
            {
                Assert.True(Tokens(history) <= context / 2, $"turn {i}: {Tokens(history)} prompt tokens kept");
                Assert.True(Tokens(oneExchangeLess) > context / 2, $"turn {i}: dropped more than needed to reach half the context");
                if (i + 1 < messages.Length && turns[i + 1].Dropped == 0)
                    Assert.True(turns[i + 1].Cached >= Tokens(history) - 1, $"turn {i + 1}: {turns[i + 1].Cached} cached");
            }
            history.RemoveAt(history.Count - 1);
            expected.Append(await Reply(whole, history, messages[i])).Append('\n');
        }
        Assert.Equal(expected.ToString(), stdout);
    }

    [Fact]
    public async Task MessageThatCannotFit_IsOneErrorLine_TheConversationGoesOnWithoutIt_AndTheExitCodeSaysSo()
    {
        string tooLong = string.Join(' ', Enumerable.Repeat("Once upon a time there was a ball.", 40));
        string[] input = ["Once upon a time", "Lily found a ball", tooLong, "What did Lily find"];
        (int code, string stdout, string stderr) = CliProcess.RunWithInput(string.Join('\n', input) + "\n",
            "chat", "--model", TestPaths.Stories260KBin, "--max-tokens", "16", "--context", "160");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("does not fit the context of 160 tokens", stderr);

        // The long message gets no reply; the conversation went on with its first two exchanges, from the cache.
        using CodecLlmChatClient whole = ChatTestModels.Stories260K(promptCache: false, context: 160);
        List<ChatMessage> history = [];
        foreach (string m in new[] { input[0], input[1], input[3] }) await Reply(whole, history, m, 16);
        Assert.Equal(string.Concat(history.Where(m => m.Role == ChatRole.Assistant).Select(m => m.Text + "\n")), stdout);
        List<(int Dropped, int Prompt, int Cached)> turns = Turns(stderr);
        Assert.Equal(3, turns.Count);
        Assert.True(turns[2].Cached >= turns[1].Prompt, $"the third answered turn took {turns[2].Cached} tokens from the cache");
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
