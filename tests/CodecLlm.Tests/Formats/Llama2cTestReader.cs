using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>
/// An independent reader of llama2.c checkpoints for tests (run.c's layout): a 28-byte header of 7 int32
/// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then float32 arrays in the order
/// token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final (then rope tables, and wcls when
/// vocab_size is negative). Returns each weight under its canonical name, [out, in] row-major.
/// </summary>
internal static class Llama2cTestReader
{
    public sealed record Header(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int Vocab, int SeqLen);

    public static (Header Header, Dictionary<string, float[]> Weights) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int[] h = new int[7];
        Buffer.BlockCopy(bytes, 0, h, 0, 28);
        Header hd = new(h[0], h[1], h[2], h[3], h[4], Math.Abs(h[5]), h[6]);
        float[] all = new float[(bytes.Length - 28) / 4];
        Buffer.BlockCopy(bytes, 28, all, 0, all.Length * 4);

        int pos = 0;
        float[] Take(int n)
        {
            float[] a = all.AsSpan(pos, n).ToArray();
            pos += n;
            return a;
        }

        int dim = hd.Dim, kvDim = dim / hd.Heads * hd.KvHeads, hid = hd.HiddenDim, L = hd.Layers;
        Dictionary<string, float[]> w = new() { [TensorNames.Embedding] = Take(hd.Vocab * dim) };
        void PerLayer(Func<int, string> name, int size)
        {
            for (int l = 0; l < L; l++) w[name(l)] = Take(size);
        }
        PerLayer(TensorNames.AttnNorm, dim);
        PerLayer(TensorNames.Q, dim * dim);
        PerLayer(TensorNames.K, kvDim * dim);
        PerLayer(TensorNames.V, kvDim * dim);
        PerLayer(TensorNames.O, dim * dim);
        PerLayer(TensorNames.MlpNorm, dim);
        PerLayer(TensorNames.Gate, hid * dim);
        PerLayer(TensorNames.Down, dim * hid);
        PerLayer(TensorNames.Up, hid * dim);
        w[TensorNames.FinalNorm] = Take(dim);
        return (hd, w);
    }

    public static byte[] Bytes(float[] values)
    {
        byte[] b = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, b, 0, b.Length);
        return b;
    }
}
