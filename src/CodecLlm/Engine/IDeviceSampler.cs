namespace CodecLlm.Engine;

/// <summary>
/// A session that can choose the next token where its logits are (e.g. on the GPU), so they need not be copied
/// back. The <see cref="Generator"/> uses it for non-greedy sampling; greedy choices keep the plain Forward path.
/// </summary>
public interface IDeviceSampler
{
    /// <summary>
    /// Runs <paramref name="tokens"/> like <see cref="IInferenceSession.Forward"/>, then picks the next token from the
    /// last token's logits by <see cref="Sampler.Sample(ReadOnlySpan{float}, float)"/>'s algorithm with the random
    /// number <paramref name="coin"/> (the same choice up to float rounding of the softmax).
    /// </summary>
    int ForwardSample(ReadOnlySpan<int> tokens, int startPos, SamplingOptions sampling, float coin);
}
