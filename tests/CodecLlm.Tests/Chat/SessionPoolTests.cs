using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Model;
using CodecLlm.Tests.Engine;

namespace CodecLlm.Tests.Chat;

/// <summary>Which session a request gets (<see cref="SessionPool"/>, prompt caching), with a fake backend.</summary>
public class SessionPoolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Plain scripted sessions; creation number <c>failAt</c> (1-based) throws as a full GPU would.</summary>
    private sealed class FakeBackend(int failAt = 0) : IInferenceBackend
    {
        public int Created { get; private set; }

        public string Name => "fake";

        public IInferenceSession CreateSession(LoadedModel model, SessionOptions options)
        {
            if (++Created == failAt) throw new OutOfMemoryException("no room for another KV cache");
            return new ScriptedSession([3, 4, 5]);
        }
    }

    /// <summary>What a generation leaves: the cache holds <paramref name="prompt"/> and <paramref name="generated"/> more tokens.</summary>
    private static void Ran(KvCacheContents? cache, int[] prompt, int generated = 0)
    {
        Assert.NotNull(cache);
        cache.Truncate(cache.ReusablePrefix(prompt));
        cache.Append(prompt.AsSpan(cache.Count));
        cache.MarkPrompt();
        cache.Append(Enumerable.Repeat(9, generated).ToArray());
    }

    private static readonly int[] A = [1, 20, 21, 22, 23, 24, 25, 26], B = [1, 20, 30, 31, 32, 33, 34, 35];

    [Fact]
    public async Task EachConversation_GoesBackToTheSessionHoldingIt_NotOneSharingItsTemplateStart()
    {
        FakeBackend backend = new();
        using SessionPool pool = new(null!, backend, new SessionOptions(), 2);
        pool.Warm();
        var (sa, ca) = await pool.RentAsync(A, Ct);
        Ran(ca, A, 5);
        pool.Return(sa);
        var (sb, cb) = await pool.RentAsync(B, Ct);  // shares 2 of 8 tokens with A: a new session, A's cache kept
        Assert.NotSame(sa, sb);
        Assert.Equal(0, cb!.Count);
        Ran(cb, B, 5);
        pool.Return(sb);

        int[] a2 = [.. A, 9, 9, 9, 9, 9, 40, 41], b2 = [.. B, 9, 9, 9, 50];
        var (sb2, cb2) = await pool.RentAsync(b2, Ct);
        var (sa2, ca2) = await pool.RentAsync(a2, Ct);
        Assert.Same(sb, sb2);
        Assert.Same(sa, sa2);
        Assert.Equal(A.Length + 5, ca2!.ReusablePrefix(a2));
        Assert.Equal(B.Length + 3, cb2!.ReusablePrefix(b2));
        pool.Return(sa2);
        pool.Return(sb2);
        Assert.Equal(2, backend.Created);

        // A third conversation while both hold one: the session idle longest (A's, returned first) serves it.
        var (sc, _) = await pool.RentAsync([1, 60, 61, 62], Ct);
        Assert.Same(sa, sc);
        pool.Return(sc);
    }

    [Fact]
    public async Task ContinuingAConversation_ThatReTokenisesItsLastPromptToken_StillFindsIt()
    {
        using SessionPool pool = new(null!, new FakeBackend(), new SessionOptions(), 2);
        var (s, c) = await pool.RentAsync(A, Ct);
        Ran(c, A, 20);
        pool.Return(s);
        // the next turn shares A but its last token (a generation prompt re-tokenised with the reply), then 40 new tokens:
        // less than half the prompt, but all but one token of the session's previous prompt
        int[] next = [.. A[..^1], .. Enumerable.Range(100, 40)];
        var (s2, c2) = await pool.RentAsync(next, Ct);
        Assert.Same(s, s2);
        Assert.Equal(A.Length - 1, c2!.ReusablePrefix(next));
        pool.Return(s2);
    }

    [Fact]
    public async Task ASessionThatCannotBeCreated_LeavesTheRequestAnIdleOne()
    {
        FakeBackend backend = new(failAt: 2);
        using SessionPool pool = new(null!, backend, new SessionOptions(), 2);
        pool.Warm();
        var (sa, ca) = await pool.RentAsync(A, Ct);
        Ran(ca, A);
        pool.Return(sa);
        var (sb, _) = await pool.RentAsync(B, Ct);  // a new session is promised, fails, and A's idle one serves
        Assert.Same(sa, sb);
        Assert.Equal(2, backend.Created);
        pool.Return(sb);
        var (sc, _) = await pool.RentAsync(B, Ct);  // the promise was withdrawn: the pool may try again
        Assert.Equal(3, backend.Created);
        Assert.NotSame(sa, sc);
        pool.Return(sc);
    }

    [Fact]
    public async Task ABackendThatCannotBatch_IsAskedOnce_ThenServesPlainSessions()
    {
        FakeBackend backend = new();
        using SessionPool pool = new(null!, backend, new SessionOptions(), 2, batch: true);
        pool.Warm();
        for (int i = 0; i < 5; i++)
        {
            var (s, c) = await pool.RentAsync(A, Ct);
            Assert.IsType<ScriptedSession>(s);
            Assert.NotNull(c);
            pool.Return(s);
        }
        Assert.Equal(1, backend.Created);
    }

    [Fact]
    public async Task WithoutPromptCache_NoContents_AndOneSessionServesOneRequestAtATime()
    {
        FakeBackend backend = new();
        using SessionPool pool = new(null!, backend, new SessionOptions(), 2, promptCache: false);
        var (s1, c1) = await pool.RentAsync(A, Ct);
        var (s2, c2) = await pool.RentAsync(A, Ct);
        Assert.Null(c1);
        Assert.Null(c2);
        Assert.NotSame(s1, s2);
        Task<(IInferenceSession, KvCacheContents?)> third = pool.RentAsync(B, Ct);
        await Task.Delay(50, Ct);
        Assert.False(third.IsCompleted);  // both busy: it waits
        pool.Return(s1);
        Assert.Same(s1, (await third).Item1);
        Assert.Equal(2, backend.Created);
    }
}
