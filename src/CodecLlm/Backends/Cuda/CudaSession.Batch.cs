using CodecLlm.Backends.Cuda.Interop;
using CodecLlm.Engine;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Batched decode: one step advances sequences 0..B-1 of the session by one token each (each sequence has its own
/// KV cache and position). The step runs the batch-1 step's kernels over B activation rows: every fused matvec
/// reads each weight once for all B rows and sums each row in the batch-1 order, attention runs one block per
/// (head, sequence), argmax one per sequence; so sequence b's logits are bit-identical to a batch-1 session's
/// decoding that sequence alone. Each B is captured once as a CUDA graph (tokens and positions read from device
/// memory). Prompts are prefilled one sequence at a time (<see cref="Prefill(int, ReadOnlySpan{int}, int, Span{float})"/>).
/// </summary>
public sealed unsafe partial class CudaSession
{
    private readonly PinnedBuffer? _pinnedBatch; // [tokens B][positions B][next B]
    private readonly Dictionary<int, CudaGraphExecHandle> _batchGraphs = [];

    /// <summary>
    /// One decode step of sequences 0..B-1 (B = tokens.Length, 1..<see cref="MaxBatch"/>): sequence b takes
    /// tokens[b] at positions[b] and gets its greedy next token in next[b] (argmax, lowest id on ties); the logits,
    /// [B][vocabulary], are copied back only when <paramref name="logits"/> is not empty. B = 1 is <see cref="ForwardGreedy"/>.
    /// </summary>
    public void ForwardGreedyBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits)
    {
        int vocab = _cfg.VocabSize;
        BatchArguments.Check(tokens, positions, next.Length, logits.Length, MaxBatch, vocab, MaxSequenceLength);
        int b = tokens.Length;
        if (b == 1)
        {
            next[0] = ForwardGreedy(tokens[0], positions[0], logits);
            return;
        }
        _ctx.MakeCurrent();
        Span<int> pin = _pinnedBatch!.AsSpan<int>();
        tokens.CopyTo(pin);
        positions.CopyTo(pin[MaxBatch..]);
        _stream.CopyToDevice(_tokens, 0, _pinnedBatch.Pointer, 4L * b);
        _stream.CopyToDevice(_pos, 0, (int*)_pinnedBatch.Pointer + MaxBatch, 4L * b);
        if (_opt.UseGraphs)
        {
            if (!_batchGraphs.TryGetValue(b, out CudaGraphExecHandle? graph)) _batchGraphs[b] = graph = Capture(() => EnqueueDecodeBatch(b));
            CuDriver.Check(CuDriver.cuGraphLaunch(graph.DangerousGetHandle(), _stream.Handle), "cuGraphLaunch");
        }
        else
        {
            EnqueueDecodeBatch(b);
        }
        _stream.CopyToHost((int*)_pinnedBatch.Pointer + 2 * MaxBatch, _next, 0, 4L * b);
        if (!logits.IsEmpty) _stream.CopyToHost(_pinnedLogits.Pointer, _logits, 0, 4L * b * vocab);
        _stream.Synchronize();
        pin.Slice(2 * MaxBatch, b).CopyTo(next);
        if (!logits.IsEmpty) _pinnedLogits.AsSpan<float>()[..(b * vocab)].CopyTo(logits);
    }

    private void EnqueueDecodeBatch(int b)
    {
        int vocab = _cfg.VocabSize;
        Embed(b);
        RunSteps(_decodeSteps, (step, slot) => DecodeCompute(step, slot, b));
        bool pdl = !_decodeSteps.Any(s => s.Scratch != null);
        for (int i = 0; i < b; i++)
            _ops.Argmax(_stream, _logits.Pointer + (ulong)((long)i * vocab * 4), _next.Pointer + (ulong)(4 * i), vocab, programmatic: pdl && i == 0);
    }
}
