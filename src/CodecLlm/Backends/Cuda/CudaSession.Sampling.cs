using CodecLlm.Engine;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Token choice on the GPU (Kernels/sampling.cu): the logits stay on the device and one int comes back. The
/// random number is drawn on the host from the generator's <see cref="SamplerRandom"/>, so a GPU run and a CPU
/// run with the same seed consume the same sequence.
/// </summary>
public sealed unsafe partial class CudaSession : IDeviceSampler
{
    private DeviceBuffer? _sampleProbs;
    private float[]? _hostLogits;

    public int ForwardSample(ReadOnlySpan<int> tokens, int startPos, SamplingOptions sampling, float coin)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        if (!(sampling.Temperature >= 0)) throw new ArgumentOutOfRangeException(nameof(sampling), $"temperature must be ≥ 0, not {sampling.Temperature}");
        if (!(sampling.TopP > 0 && sampling.TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(sampling), $"top-p must be in (0, 1], not {sampling.TopP}");
        if (sampling.TopK < 0) throw new ArgumentOutOfRangeException(nameof(sampling), $"top-k must be ≥ 0, not {sampling.TopK}");
        if (!(coin >= 0 && coin < 1)) throw new ArgumentOutOfRangeException(nameof(coin), $"the random number must be in [0, 1), not {coin}");
        _hostLogits ??= new float[_cfg.VocabSize];

        if (tokens.Length == 1)
        {
            // A decode step, as ForwardGreedy, without copying the logits back.
            if ((uint)tokens[0] >= (uint)_cfg.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tokens[0]} outside the vocabulary of {_cfg.VocabSize}");
            if (startPos < 0 || startPos >= MaxSequenceLength) throw new ArgumentOutOfRangeException(nameof(startPos), $"position {startPos} outside the context of {MaxSequenceLength}");
            _ctx.MakeCurrent();
            Span<int> input = _pinnedIn.AsSpan<int>();
            input[0] = tokens[0];
            input[_chunk] = startPos;
            _stream.CopyToDevice(_tokens, 0, _pinnedIn.Pointer, 4);
            _stream.CopyToDevice(_pos, 0, (int*)_pinnedIn.Pointer + _chunk, 4);
            DecodeStep();
        }
        else
        {
            Forward(tokens, startPos, _hostLogits); // a prefill: the logits are also left on the device
        }

        int token = SampleDeviceLogits(sampling, coin);
        if (token >= 0) return token;
        // The kernel needs more sorted tokens than it holds (a huge nucleus or top-k): the CPU sampler decides.
        _stream.CopyToHost(_pinnedLogits.Pointer, _logits, 0, 4L * _cfg.VocabSize);
        _stream.Synchronize();
        _pinnedLogits.AsSpan<float>()[.._cfg.VocabSize].CopyTo(_hostLogits);
        return new Sampler(sampling).Sample(_hostLogits, coin);
    }

    /// <summary>Chooses from the logits now on the device (argmax when greedy); -1 when the kernel defers to the CPU.</summary>
    private int SampleDeviceLogits(SamplingOptions sampling, float coin)
    {
        if (sampling.Temperature == 0 || sampling.TopK == 1)
        {
            _ops.Argmax(_stream, _logits.Pointer, _next.Pointer, _cfg.VocabSize);
        }
        else
        {
            _sampleProbs ??= Alloc(4L * _cfg.VocabSize, MemoryCategory.Activations, "sampling probabilities");
            _ops.Sample(_stream, _logits.Pointer, _sampleProbs.Pointer, _next.Pointer, _cfg.VocabSize, sampling, coin);
        }
        _stream.CopyToHost((int*)_pinnedIn.Pointer + _chunk + 1, _next, 0, 4);
        _stream.Synchronize();
        return _pinnedIn.AsSpan<int>()[_chunk + 1];
    }
}
