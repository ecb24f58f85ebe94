using CodecLlm.Backends.Cuda;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>Each kernel against a plain double-precision C# reference, on random data.</summary>
[Collection("gpu")]
public class CudaKernelTests
{
    private static (CudaContext C, CudaStream S, CudaOps Ops) Setup()
    {
        CudaContext c = GpuTest.Context();
        return (c, new CudaStream(c), new CudaOps(c));
    }

    private static double[] RefMatvec(float[] w, int rows, int cols, float[] x)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < cols; k++) s += (double)w[(long)r * cols + k] * x[k];
            y[r] = s;
        }
        return y;
    }

    private static float[] RefRmsNorm(float[] x, float[] w, float eps)
    {
        double ss = 0;
        foreach (float v in x) ss += (double)v * v;
        double scale = 1 / Math.Sqrt(ss / x.Length + eps);
        return x.Select((v, i) => (float)(v * scale * w[i])).ToArray();
    }

    [Theory]
    [InlineData(TensorDType.F32, 64, 64)]
    [InlineData(TensorDType.F32, 172, 64)]
    [InlineData(TensorDType.F32, 64, 172)]
    [InlineData(TensorDType.BF16, 2048, 512)]
    [InlineData(TensorDType.BF16, 300, 172)]
    [InlineData(TensorDType.BF16, 7, 1000)]
    [InlineData(TensorDType.F16, 256, 768)]
    [InlineData(TensorDType.F16, 13, 130)]
    public void MatvecMatchesReference(TensorDType dtype, int rows, int cols)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(rows * 31 + cols);
        float[] wf = GpuTest.Gaussian(rnd, rows * cols, 0.05);
        float[] x = GpuTest.Gaussian(rnd, cols);
        float[] bias = GpuTest.Gaussian(rnd, rows);
        float[] resid = GpuTest.Gaussian(rnd, rows);
        using DeviceBuffer w = UploadWeights(c, s, dtype, wf);
        using DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        using DeviceBuffer bd = s.UploadNew<float>(c.Allocator, bias, MemoryCategory.Activations, "bias");
        using DeviceBuffer rd = s.UploadNew<float>(c.Allocator, resid, MemoryCategory.Activations, "resid");
        using DeviceBuffer yd = c.Allocator.Allocate(rows * 4L, MemoryCategory.Activations, "y");
        s.Fill(yd, 0xff); // NaN poison: every output must be written
        var mw = new MatvecWeight(MatvecWeight.EncodingOf(dtype), w.Pointer, rows, cols);
        ops.Matvec(s, [new MatvecTarget(mw, yd.Pointer, bd.Pointer)], xd.Pointer, cols, resid: rd.Pointer);
        float[] y = s.Download<float>(yd, rows);
        float[] wr = dtype switch
        {
            TensorDType.BF16 => wf.Select(v => GpuTest.FromBf16(GpuTest.ToBf16(v))).ToArray(),
            TensorDType.F16 => wf.Select(v => (float)(Half)v).ToArray(),
            _ => wf,
        };
        double[] r = RefMatvec(wr, rows, cols, x);
        float[] expected = r.Select((v, i) => (float)(v + bias[i] + resid[i])).ToArray();
        Assert.True(GpuTest.RelErr(y, expected) < 1e-5, $"rel err {GpuTest.RelErr(y, expected)}");
    }

    [Fact]
    public void FusedNormQkvAndSwigluMatchReference()
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(5);
        int cols = 512, q = 512, kv = 128, hidden = 1376;
        float eps = 1e-5f;
        float[] x = GpuTest.Gaussian(rnd, cols), nw = GpuTest.Gaussian(rnd, cols).Select(v => 1 + 0.1f * v).ToArray();
        float[] wq = GpuTest.Gaussian(rnd, q * cols, 0.05), wk = GpuTest.Gaussian(rnd, kv * cols, 0.05), wv = GpuTest.Gaussian(rnd, kv * cols, 0.05);
        float[] wg = GpuTest.Gaussian(rnd, hidden * cols, 0.05), wu = GpuTest.Gaussian(rnd, hidden * cols, 0.05);
        using DeviceBuffer dq = UploadWeights(c, s, TensorDType.BF16, wq), dk = UploadWeights(c, s, TensorDType.BF16, wk), dv = UploadWeights(c, s, TensorDType.BF16, wv);
        using DeviceBuffer dg = UploadWeights(c, s, TensorDType.BF16, wg), du = UploadWeights(c, s, TensorDType.BF16, wu);
        using DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        using DeviceBuffer nd = s.UploadNew<float>(c.Allocator, nw, MemoryCategory.Activations, "norm");
        using DeviceBuffer out1 = c.Allocator.Allocate((q + 2 * kv) * 4L, MemoryCategory.Activations, "qkv");
        using DeviceBuffer out2 = c.Allocator.Allocate(2 * hidden * 4L, MemoryCategory.Activations, "gate, up");
        float[] wd = GpuTest.Gaussian(rnd, cols * hidden, 0.05);
        using DeviceBuffer dd = UploadWeights(c, s, TensorDType.BF16, wd);
        using DeviceBuffer out3 = c.Allocator.Allocate(cols * 4L, MemoryCategory.Activations, "down");
        s.Fill(out1, 0xff);
        s.Fill(out2, 0xff);
        s.Fill(out3, 0xff);
        MatvecWeight W(DeviceBuffer b, int rows) => new(WeightEncoding.BF16, b.Pointer, rows, cols);
        ops.Matvec(s, [new(W(dq, q), out1.Pointer), new(W(dk, kv), out1.Pointer + (ulong)q * 4), new(W(dv, kv), out1.Pointer + (ulong)(q + kv) * 4)],
            xd.Pointer, cols, nd.Pointer, eps);
        ops.Matvec(s, [new(W(dg, hidden), out2.Pointer), new(W(du, hidden), out2.Pointer + (ulong)hidden * 4)], xd.Pointer, cols, nd.Pointer, eps);
        ops.Matvec(s, [new(new MatvecWeight(WeightEncoding.BF16, dd.Pointer, cols, hidden), out3.Pointer)], out2.Pointer, hidden, up: out2.Pointer + (ulong)hidden * 4);
        float[] y1 = s.Download<float>(out1, q + 2 * kv), y3 = s.Download<float>(out3, cols);
        float[] xn = RefRmsNorm(x, nw, eps);
        float[] Round(float[] a) => a.Select(v => GpuTest.FromBf16(GpuTest.ToBf16(v))).ToArray();
        float[] e1 = RefMatvec(Round(wq), q, cols, xn).Concat(RefMatvec(Round(wk), kv, cols, xn)).Concat(RefMatvec(Round(wv), kv, cols, xn)).Select(v => (float)v).ToArray();
        double[] g = RefMatvec(Round(wg), hidden, cols, xn), u = RefMatvec(Round(wu), hidden, cols, xn);
        float[] h = g.Select((v, i) => (float)(v / (1 + Math.Exp(-v)) * u[i])).ToArray();
        float[] e3 = RefMatvec(Round(wd), cols, hidden, h).Select(v => (float)v).ToArray();
        Assert.True(GpuTest.RelErr(y1, e1) < 1e-5, $"qkv rel err {GpuTest.RelErr(y1, e1)}");
        Assert.True(GpuTest.RelErr(y3, e3) < 1e-4, $"swiglu + down rel err {GpuTest.RelErr(y3, e3)}");
    }

    [Fact]
    public void RmsNormToEveryTypeMatchesReference()
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(7);
        int dim = 1000, rows = 3;
        float[] x = GpuTest.Gaussian(rnd, dim * rows), w = GpuTest.Gaussian(rnd, dim);
        using DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        using DeviceBuffer wd = s.UploadNew<float>(c.Allocator, w, MemoryCategory.Activations, "w");
        using DeviceBuffer o32 = c.Allocator.Allocate(dim * rows * 4L, MemoryCategory.Activations, "o");
        using DeviceBuffer o16 = c.Allocator.Allocate(dim * rows * 2L, MemoryCategory.Activations, "o");
        ops.RmsNorm(s, xd.Pointer, wd.Pointer, o32.Pointer, 0, dim, rows, 1e-6f);
        ops.RmsNorm(s, xd.Pointer, wd.Pointer, o16.Pointer, 2, dim, rows, 1e-6f);
        float[] y = s.Download<float>(o32, dim * rows);
        ushort[] yb = s.Download<ushort>(o16, dim * rows);
        for (int r = 0; r < rows; r++)
        {
            float[] e = RefRmsNorm(x[(r * dim)..((r + 1) * dim)], w, 1e-6f);
            Assert.True(GpuTest.RelErr(y.AsSpan(r * dim, dim), e) < 1e-6);
            for (int i = 0; i < dim; i++) Assert.True(Math.Abs(GpuTest.FromBf16(yb[r * dim + i]) - e[i]) <= Math.Abs(e[i]) / 128 + 1e-30, $"bf16 {i}");
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(1, 2)]
    [InlineData(0, 1)]
    public void RopeAttentionMatchesReference(int style, int kvType) =>
        CheckAttention(style, kvType, nh: 4, nkv: 2, hd: 16, T: 5, pos0: 3, decode: false);

    /// <summary>
    /// The tiled prefill kernel (attention_prefill.cu) on chunks of several query tiles (32 rows) and key tiles (64 or 32
    /// positions) that start off a tile boundary (pos0), for each head-dim bucket (8, 48, 64 → d64; 128; 256), grouped and
    /// plain heads and every cache type; head dim 6 (not a multiple of 4) takes the general kernel.
    /// </summary>
    [Theory]
    [InlineData(0, 0, 4, 2, 64, 70, 50)]
    [InlineData(1, 2, 8, 2, 128, 100, 0)]
    [InlineData(1, 1, 4, 4, 8, 37, 5)]
    [InlineData(0, 0, 2, 1, 256, 40, 30)]
    [InlineData(1, 0, 6, 6, 48, 33, 70)]
    [InlineData(0, 2, 4, 1, 64, 1, 200)]
    [InlineData(0, 0, 2, 1, 6, 9, 2)]
    public void PrefillAttentionMatchesReference(int style, int kvType, int nh, int nkv, int hd, int T, int pos0)
    {
        var tiled = CudaOps.PrefillAttentionKernel(kvType, new AttnParams { HeadDim = hd });
        Assert.Equal(hd % 4 == 0, tiled != null);
        CheckAttention(style, kvType, nh, nkv, hd, T, pos0, decode: false);
    }

    /// <summary>
    /// The decode kernel (RoPE and the cache append fused; the earlier positions' cache rows copied into shared memory
    /// before its griddepcontrol.wait, as many as the host's stage holds — stage -1 — or none): positions beyond the
    /// stage and beyond one per thread (pos0 > 512), hd 128, a cache of every type; the appended key and value too.
    /// </summary>
    [Theory]
    [InlineData(1, 0, 64, 37, -1)]
    [InlineData(0, 0, 128, 600, -1)]
    [InlineData(1, 2, 64, 700, -1)]
    [InlineData(1, 1, 16, 5, -1)]
    [InlineData(0, 0, 64, 0, -1)]
    [InlineData(0, 0, 64, 300, 0)]
    [InlineData(1, 2, 64, 300, 7)]
    public void DecodeAttentionMatchesReference(int style, int kvType, int hd, int pos0, int stage) =>
        CheckAttention(style, kvType, nh: 8, nkv: 2, hd: hd, T: 1, pos0: pos0, decode: true, stage: stage);

    /// <summary>
    /// The decode kernel split over positions (AttnParams.SplitLen positions a block, the last block to finish combining
    /// the partial outputs): several splits with staged and unstaged rows, the new position alone in its split (pos0 =
    /// 128), one split exactly full (pos0 = 127), hd 128, every cache type; a rerun gives the same bits (the counters
    /// back at zero).
    /// </summary>
    [Theory]
    [InlineData(1, 0, 64, 600, -1, 128)]
    [InlineData(0, 2, 64, 700, 7, 128)]
    [InlineData(1, 1, 128, 300, 0, 64)]
    [InlineData(0, 0, 64, 128, 100, 128)]
    [InlineData(0, 0, 64, 127, 60, 128)]
    [InlineData(1, 0, 64, 1000, 40, 32)]
    public void SplitDecodeAttentionMatchesReference(int style, int kvType, int hd, int pos0, int stage, int split) =>
        CheckAttention(style, kvType, nh: 8, nkv: 2, hd: hd, T: 1, pos0: pos0, decode: true, stage: stage, split: split);

    /// <summary>
    /// A sliding window (AttnParams.Window: a query at position q sees q - window + 1 .. q) in every attention kernel:
    /// tiled prefill with the window starting inside a key tile and across query tiles (hd 64, 128), the general kernel
    /// (hd 6), decode with staged and unstaged rows, decode split over positions (the splits counted from the window's
    /// first position), a window of one position and one wider than the context. The reference attends to the window's
    /// positions only.
    /// </summary>
    [Theory]
    [InlineData(false, 0, 64, 70, 50, 0, 0, 20)]
    [InlineData(false, 2, 128, 100, 0, 0, 0, 33)]
    [InlineData(false, 0, 6, 9, 20, 0, 0, 3)]
    [InlineData(false, 1, 64, 40, 10, 0, 0, 1)]
    [InlineData(true, 0, 64, 1, 600, -1, 0, 100)]
    [InlineData(true, 2, 128, 1, 300, 7, 0, 250)]
    [InlineData(true, 0, 64, 1, 1000, 40, 32, 200)]
    [InlineData(true, 1, 64, 1, 700, -1, 128, 129)]
    [InlineData(true, 0, 64, 1, 50, -1, 0, 1)]
    [InlineData(true, 0, 16, 1, 30, -1, 0, 4096)]
    public void SlidingWindowAttentionMatchesReference(bool decode, int kvType, int hd, int T, int pos0, int stage, int split, int window) =>
        CheckAttention(1, kvType, nh: 8, nkv: 2, hd: hd, T: T, pos0: pos0, decode: decode, stage: stage, split: split, window: window);

    private static void CheckAttention(int style, int kvType, int nh, int nkv, int hd, int T, int pos0, bool decode, int stage = 0, int split = 0,
        int window = 0)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(11 + style + 3 * hd + pos0);
        int maxSeq = pos0 + T + 3;
        int qdim = nh * hd, kvdim = nkv * hd;
        // Earlier cache positions 0..pos0-1 hold given keys/values; then T new tokens.
        float[] kPrev = GpuTest.Gaussian(rnd, pos0 * kvdim), vPrev = GpuTest.Gaussian(rnd, pos0 * kvdim);
        float[] q = GpuTest.Gaussian(rnd, T * qdim), k = GpuTest.Gaussian(rnd, T * kvdim), v = GpuTest.Gaussian(rnd, T * kvdim);
        float[] invFreq = Enumerable.Range(0, hd / 2).Select(i => (float)(1 / Math.Pow(10000, 2.0 * i / hd))).ToArray();
        int esz = kvType == 0 ? 4 : 2;
        using DeviceBuffer kc = c.Allocator.Allocate(maxSeq * kvdim * esz, MemoryCategory.KvCache, "k");
        using DeviceBuffer vc = c.Allocator.Allocate(maxSeq * kvdim * esz, MemoryCategory.KvCache, "v");
        if (pos0 > 0)
        {
            using DeviceBuffer tmp = s.UploadNew<float>(c.Allocator, kPrev.Concat(vPrev).ToArray(), MemoryCategory.Activations, "prev");
            if (kvType == 0)
            {
                s.Copy(kc, 0, tmp, 0, pos0 * kvdim * 4L);
                s.Copy(vc, 0, tmp, pos0 * kvdim * 4L, pos0 * kvdim * 4L);
            }
            else
            {
                ops.Convert(s, tmp.Pointer, 0, kc.Pointer, kvType, pos0 * kvdim);
                ops.Convert(s, tmp.Pointer + (ulong)(pos0 * kvdim * 4), 0, vc.Pointer, kvType, pos0 * kvdim);
            }
            s.Synchronize();
        }
        using DeviceBuffer qd = s.UploadNew<float>(c.Allocator, q, MemoryCategory.Activations, "q");
        using DeviceBuffer kd = s.UploadNew<float>(c.Allocator, k, MemoryCategory.Activations, "k");
        using DeviceBuffer vd = s.UploadNew<float>(c.Allocator, v, MemoryCategory.Activations, "v");
        using DeviceBuffer fd = s.UploadNew<float>(c.Allocator, invFreq, MemoryCategory.Workspace, "freq");
        using DeviceBuffer pd = s.UploadNew<int>(c.Allocator, [pos0], MemoryCategory.Workspace, "pos");
        using DeviceBuffer od = c.Allocator.Allocate(T * qdim * 4L, MemoryCategory.Activations, "o");
        int splitMax = split > 0 ? (maxSeq + split - 1) / split : 0;
        using DeviceBuffer ws = c.Allocator.Allocate(Math.Max(1, T * nh * splitMax * (hd + 2)) * 4L, MemoryCategory.Workspace, "split partials");
        using DeviceBuffer counts = s.UploadNew<int>(c.Allocator, new int[T * nh], MemoryCategory.Workspace, "split counters");
        var attn = new AttnParams
        {
            Q = qd.Pointer,
            KCache = kc.Pointer,
            VCache = vc.Pointer,
            Out = od.Pointer,
            Pos0 = pd.Pointer,
            T = T,
            NHeads = nh,
            NKvHeads = nkv,
            HeadDim = hd,
            Scale = 1 / MathF.Sqrt(hd),
            KNew = kd.Pointer,
            VNew = vd.Pointer,
            InvFreq = fd.Pointer,
            Style = style,
            FuseRope = decode ? 1 : 0,
            SplitWs = ws.Pointer,
            SplitCount = counts.Pointer,
            SplitLen = split,
            SplitMax = splitMax,
            Window = window,
        };
        attn.StageRows = stage < 0 ? CudaOps.AttentionStageRows(c.MaxSharedMemoryPerBlock, kvType, hd, maxSeq) : stage;
        if (stage < 0 && pos0 > 100) Assert.InRange(attn.StageRows, 1, pos0 - 1);  // both staged and unstaged rows
        if (!decode) ops.RopeKv(s, kvType, attn);
        ops.Attention(s, kvType, attn, maxSeq);
        float[] got = s.Download<float>(od, T * qdim);
        if (split > 0)
        {
            Assert.All(s.Download<int>(counts, T * nh), n => Assert.Equal(0, n));
            ops.Attention(s, kvType, attn, maxSeq);  // the same inputs again (the same new row appended again): the same bits
            Assert.Equal(got, s.Download<float>(od, T * qdim));
        }
        if (!decode)
        {
            ops.Attention(s, kvType, attn, maxSeq);  // the same inputs again: the same bits
            Assert.Equal(got, s.Download<float>(od, T * qdim));
        }

        // Reference: rotate, then attend, in double.
        void Rotate(float[] a, int off, int pos)
        {
            for (int i = 0; i < hd / 2; i++)
            {
                int ia = style == 0 ? 2 * i : i, ib = style == 0 ? 2 * i + 1 : i + hd / 2;
                double ang = pos * (double)invFreq[i], x0 = a[off + ia], x1 = a[off + ib];
                a[off + ia] = (float)(x0 * Math.Cos(ang) - x1 * Math.Sin(ang));
                a[off + ib] = (float)(x0 * Math.Sin(ang) + x1 * Math.Cos(ang));
            }
        }
        float Cache(float f) => kvType == 2 ? GpuTest.FromBf16(GpuTest.ToBf16(f)) : kvType == 1 ? (float)(Half)f : f;
        var keys = new float[(pos0 + T) * kvdim];
        var vals = new float[(pos0 + T) * kvdim];
        kPrev.CopyTo(keys, 0);
        vPrev.CopyTo(vals, 0);
        for (int t = 0; t < T; t++)
        {
            for (int h = 0; h < nh; h++) Rotate(q, t * qdim + h * hd, pos0 + t);
            for (int h = 0; h < nkv; h++) Rotate(k, t * kvdim + h * hd, pos0 + t);
            Array.Copy(k, t * kvdim, keys, (pos0 + t) * kvdim, kvdim);
            Array.Copy(v, t * kvdim, vals, (pos0 + t) * kvdim, kvdim);
        }
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Cache(keys[i]);
            vals[i] = Cache(vals[i]);
        }
        var expected = new float[T * qdim];
        for (int t = 0; t < T; t++)
            for (int h = 0; h < nh; h++)
            {
                // Positions first .. pos0 + t: all of them, or the last `window`.
                int kvh = h / (nh / nkv), first = window > 0 ? Math.Max(0, pos0 + t - window + 1) : 0, n = pos0 + t + 1 - first;
                var sc = new double[n];
                for (int j = 0; j < n; j++)
                {
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += (double)q[t * qdim + h * hd + e] * keys[(first + j) * kvdim + kvh * hd + e];
                    sc[j] = d / Math.Sqrt(hd);
                }
                double mx = sc.Max(), sum = sc.Sum(z => Math.Exp(z - mx));
                for (int e = 0; e < hd; e++)
                {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += Math.Exp(sc[j] - mx) / sum * vals[(first + j) * kvdim + kvh * hd + e];
                    expected[t * qdim + h * hd + e] = (float)acc;
                }
            }
        double tol = kvType == 0 ? 1e-5 : 1e-2;
        Assert.True(GpuTest.RelErr(got, expected) < tol, $"rel err {GpuTest.RelErr(got, expected)}");
        if (!decode) return;
        // The new token's key (rotated) and value, appended at pos0 in the cache's type. The kernel's angle pos * inv_freq
        // is a float product: up to pos * 2^-24 rad from the reference's double one, times |x0| + |x1| (< 12 here).
        float[] kGot = ReadCache(kc), vGot = ReadCache(vc);
        double tolK = 1e-5 + 12 * pos0 * Math.Pow(2, -24) + (kvType == 0 ? 0 : 1e-2);
        for (int i = 0; i < kvdim; i++)
        {
            Assert.True(Math.Abs(kGot[i] - keys[pos0 * kvdim + i]) <= tolK * Math.Max(1, Math.Abs(keys[pos0 * kvdim + i])), $"k[{i}]: {kGot[i]} vs {keys[pos0 * kvdim + i]}");
            Assert.Equal(vals[pos0 * kvdim + i], vGot[i]);
        }

        float[] ReadCache(DeviceBuffer cache)
        {
            if (kvType == 0) return s.Download<float>(cache, pos0 * kvdim + kvdim).AsSpan(pos0 * kvdim).ToArray();
            ushort[] raw = s.Download<ushort>(cache, pos0 * kvdim + kvdim).AsSpan(pos0 * kvdim).ToArray();
            return raw.Select(b => kvType == 2 ? GpuTest.FromBf16(b) : (float)BitConverter.UInt16BitsToHalf(b)).ToArray();
        }
    }

    /// <summary>
    /// rmsnorm_split and swiglu_split (the prefill GEMM input in one pass) write the hi and lo halves of the f32 kernels'
    /// results: hi = round(v), lo = round(v - hi) in f16 (C#'s Half) or bf16 (round to nearest even), checked bit for bit
    /// against that split done in C# on the f32 kernels' outputs.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SplitKernelsWriteTheHiAndLoHalvesOfTheF32Results(int type)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(9 + type);
        int dim = 700, rows = 3, n = dim * rows;
        float[] x = GpuTest.Gaussian(rnd, n), w = GpuTest.Gaussian(rnd, dim), g = GpuTest.Gaussian(rnd, n, 3), u = GpuTest.Gaussian(rnd, n);
        using DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        using DeviceBuffer wd = s.UploadNew<float>(c.Allocator, w, MemoryCategory.Activations, "w");
        using DeviceBuffer gd = s.UploadNew<float>(c.Allocator, g, MemoryCategory.Activations, "g");
        using DeviceBuffer ud = s.UploadNew<float>(c.Allocator, u, MemoryCategory.Activations, "u");
        using DeviceBuffer f32 = c.Allocator.Allocate(4L * n, MemoryCategory.Activations, "f32");
        using DeviceBuffer halves = c.Allocator.Allocate(4L * n, MemoryCategory.Activations, "halves");
        ushort Round(float v) => type == 2 ? GpuTest.ToBf16(v) : BitConverter.HalfToUInt16Bits((Half)v);
        float Back(ushort b) => type == 2 ? GpuTest.FromBf16(b) : (float)BitConverter.UInt16BitsToHalf(b);
        void Check(string what)
        {
            float[] v = s.Download<float>(f32, n);
            ushort[] got = s.Download<ushort>(halves, 2 * n);
            for (int i = 0; i < n; i++)
            {
                ushort hi = Round(v[i]);
                Assert.True(got[i] == hi && got[n + i] == Round(v[i] - Back(hi)), $"{what}[{i}]: {v[i]} -> {got[i]:x4} {got[n + i]:x4}");
            }
        }
        ops.RmsNorm(s, xd.Pointer, wd.Pointer, f32.Pointer, 0, dim, rows, 1e-5f);
        ops.RmsNormSplit(s, xd.Pointer, wd.Pointer, halves.Pointer, type, dim, rows, 1e-5f);
        Check("rmsnorm");
        ops.Swiglu(s, gd.Pointer, ud.Pointer, f32.Pointer, n);
        ops.SwigluSplit(s, gd.Pointer, ud.Pointer, halves.Pointer, type, n);
        Check("swiglu");
    }

    /// <summary>
    /// rope_kv reading q, k and v as a prefill GEMM's [hi | lo] output (the AttnParams.Halves bits; 5 = q and v in halves, k
    /// summed): the same bits in q, k and both caches as rope_kv on the halves summed first in C#.
    /// </summary>
    [Theory]
    [InlineData(7, 0, 0)]
    [InlineData(5, 2, 1)]
    [InlineData(2, 1, 0)]
    public void RopeSumsTheHalvesOfTheQkvGemmOutputs(int halves, int kvType, int style)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(31 + halves);
        int T = 5, nh = 4, nkv = 2, hd = 16, pos0 = 3, maxSeq = 16, qdim = nh * hd, kvdim = nkv * hd, esz = kvType == 0 ? 4 : 2;
        float[] Input(int dim, int bit, out float[] summed)
        {
            float[] a = GpuTest.Gaussian(rnd, 2 * T * dim);
            summed = Enumerable.Range(0, T * dim).Select(i => a[i] + a[T * dim + i]).ToArray();
            return (halves & bit) != 0 ? a : summed;  // an input not in halves is the sum itself
        }
        float[] q = Input(qdim, 1, out float[] qs), k = Input(kvdim, 2, out float[] ks), v = Input(kvdim, 4, out float[] vs);
        float[] invFreq = Enumerable.Range(0, hd / 2).Select(i => (float)(1 / Math.Pow(10000, 2.0 * i / hd))).ToArray();
        using DeviceBuffer fd = s.UploadNew<float>(c.Allocator, invFreq, MemoryCategory.Workspace, "freq");
        using DeviceBuffer pd = s.UploadNew<int>(c.Allocator, [pos0], MemoryCategory.Workspace, "pos");
        (float[] Q, float[] K, byte[] KCache, byte[] VCache) Run(float[] qin, float[] kin, float[] vin, int bits)
        {
            using DeviceBuffer qd = s.UploadNew<float>(c.Allocator, qin, MemoryCategory.Activations, "q");
            using DeviceBuffer kd = s.UploadNew<float>(c.Allocator, kin, MemoryCategory.Activations, "k");
            using DeviceBuffer vd = s.UploadNew<float>(c.Allocator, vin, MemoryCategory.Activations, "v");
            using DeviceBuffer kc = s.UploadNew<byte>(c.Allocator, new byte[maxSeq * kvdim * esz], MemoryCategory.KvCache, "k cache");
            using DeviceBuffer vc = s.UploadNew<byte>(c.Allocator, new byte[maxSeq * kvdim * esz], MemoryCategory.KvCache, "v cache");
            ops.RopeKv(s, kvType, new AttnParams
            {
                Q = qd.Pointer,
                KCache = kc.Pointer,
                VCache = vc.Pointer,
                Pos0 = pd.Pointer,
                T = T,
                NHeads = nh,
                NKvHeads = nkv,
                HeadDim = hd,
                KNew = kd.Pointer,
                VNew = vd.Pointer,
                InvFreq = fd.Pointer,
                Style = style,
                Halves = bits,
            });
            return (s.Download<float>(qd, T * qdim), s.Download<float>(kd, T * kvdim), s.Download<byte>(kc, maxSeq * kvdim * esz), s.Download<byte>(vc, maxSeq * kvdim * esz));
        }
        var want = Run(qs, ks, vs, 0);
        var got = Run(q, k, v, halves);
        Assert.Equal(want.Q, got.Q);
        Assert.Equal(want.K, got.K);
        Assert.Equal(want.KCache, got.KCache);
        Assert.Equal(want.VCache, got.VCache);
        Assert.Contains(want.VCache, b => b != 0);  // the new rows were written
    }

    /// <summary>The q/k/v bias added to a prefill GEMM's [hi | lo] output: (hi + lo) + bias, the float sums in C#.</summary>
    [Fact]
    public void BiasIsAddedToTheSumOfTheHalves()
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(41);
        int dim = 96, rows = 7, n = dim * rows;
        float[] x = GpuTest.Gaussian(rnd, 2 * n), bias = GpuTest.Gaussian(rnd, dim);
        using DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        using DeviceBuffer bd = s.UploadNew<float>(c.Allocator, bias, MemoryCategory.Activations, "bias");
        ops.AddBiasRows(s, xd.Pointer, bd.Pointer, dim, n, halves: true);
        float[] got = s.Download<float>(xd, n);
        for (int i = 0; i < n; i++) Assert.Equal(x[i] + x[n + i] + bias[i % dim], got[i]);
    }

    /// <summary>
    /// The residual add and SwiGLU reading a prefill GEMM's [hi | lo] output ([2n] values, halves on): the same bits as
    /// those kernels on the halves summed first (the float sums computed in C#).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void ResidualAddAndSwigluSumTheHalvesOfAGemmOutput(int type)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(21 + type);
        int n = 1500;
        float[] a = GpuTest.Gaussian(rnd, 2 * n, 3), b = GpuTest.Gaussian(rnd, 2 * n), y0 = GpuTest.Gaussian(rnd, n);
        float[] sa = Enumerable.Range(0, n).Select(i => a[i] + a[n + i]).ToArray(), sb = Enumerable.Range(0, n).Select(i => b[i] + b[n + i]).ToArray();
        using DeviceBuffer ad = s.UploadNew<float>(c.Allocator, a, MemoryCategory.Activations, "a");
        using DeviceBuffer bd = s.UploadNew<float>(c.Allocator, b, MemoryCategory.Activations, "b");
        using DeviceBuffer sad = s.UploadNew<float>(c.Allocator, sa, MemoryCategory.Activations, "a summed");
        using DeviceBuffer sbd = s.UploadNew<float>(c.Allocator, sb, MemoryCategory.Activations, "b summed");
        using DeviceBuffer yd = s.UploadNew<float>(c.Allocator, y0, MemoryCategory.Activations, "y");
        using DeviceBuffer want = c.Allocator.Allocate(8L * n, MemoryCategory.Activations, "want");
        using DeviceBuffer got = c.Allocator.Allocate(8L * n, MemoryCategory.Activations, "got");
        if (type == 0)
        {
            ops.AddInPlace(s, yd.Pointer, ad.Pointer, n, halves: true);
            float[] y = s.Download<float>(yd, n);
            for (int i = 0; i < n; i++) Assert.Equal(y0[i] + sa[i], y[i]);
            ops.Swiglu(s, sad.Pointer, sbd.Pointer, want.Pointer, n);
            ops.Swiglu(s, ad.Pointer, bd.Pointer, got.Pointer, n, halves: true);
        }
        else
        {
            ops.SwigluSplit(s, sad.Pointer, sbd.Pointer, want.Pointer, type, n);
            ops.SwigluSplit(s, ad.Pointer, bd.Pointer, got.Pointer, type, n, halves: true);
        }
        // n words: the f32 values, or the 2n u16 hi and lo halves
        Assert.Equal(s.Download<uint>(want, n), s.Download<uint>(got, n));
    }

    [Fact]
    public void ArgmaxTakesTheLowestIndexOnTies()
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(3);
        float[] logits = GpuTest.Gaussian(rnd, 32000);
        logits[777] = 9;
        logits[31000] = 9;
        using DeviceBuffer l = s.UploadNew<float>(c.Allocator, logits, MemoryCategory.Activations, "logits");
        using DeviceBuffer o = c.Allocator.Allocate(4, MemoryCategory.Activations, "idx");
        ops.Argmax(s, l.Pointer, o.Pointer, logits.Length);
        Assert.Equal(777, s.Download<int>(o, 1)[0]);
    }

    [Fact]
    public void EmbeddingGathersRows()
    {
        var (c, s, ops) = Setup();
        int vocab = 50, dim = 24;
        float[] table = GpuTest.Gaussian(new Random(1), vocab * dim);
        ushort[] tb = table.Select(GpuTest.ToBf16).ToArray();
        int[] tokens = [3, 49, 0];
        using DeviceBuffer t = s.UploadNew<ushort>(c.Allocator, tb, MemoryCategory.Weights, "emb");
        using DeviceBuffer tk = s.UploadNew<int>(c.Allocator, tokens, MemoryCategory.Workspace, "tok");
        using DeviceBuffer o = c.Allocator.Allocate(tokens.Length * dim * 4L, MemoryCategory.Activations, "o");
        ops.Embed(s, 2, t.Pointer, tk.Pointer, o.Pointer, dim, tokens.Length);
        float[] got = s.Download<float>(o, tokens.Length * dim);
        for (int i = 0; i < tokens.Length; i++)
            for (int d = 0; d < dim; d++) Assert.Equal(GpuTest.FromBf16(tb[tokens[i] * dim + d]), got[i * dim + d]);
    }

    internal static DeviceBuffer UploadWeights(CudaContext c, CudaStream s, TensorDType dtype, float[] w) => dtype switch
    {
        TensorDType.F32 => s.UploadNew<float>(c.Allocator, w, MemoryCategory.Weights, "w"),
        TensorDType.BF16 => s.UploadNew<ushort>(c.Allocator, w.Select(GpuTest.ToBf16).ToArray(), MemoryCategory.Weights, "w"),
        _ => s.UploadNew<Half>(c.Allocator, w.Select(v => (Half)v).ToArray(), MemoryCategory.Weights, "w"),
    };
}
