package dev.rudder.runtime.cuda;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The kernels of {@code runtime/src/main/cuda/*.cu} in plain Java for {@link EmulatedGpu}: the
 * same arguments in the same order, the same grid walk, float32 arithmetic. The tensor-core
 * product splits each activation into hi + lo in the weight's type (round to nearest even) as the
 * kernel does, so the golden tests also check that the split keeps enough precision.
 */
final class EmulatedKernels {
    private final EmulatedGpu m;
    private final Kernel k;
    private final LaunchGeometry g;
    private final KernelArgs a;

    EmulatedKernels(EmulatedGpu m, Kernel k, LaunchGeometry g, KernelArgs a) {
        this.m = m;
        this.k = k;
        this.g = g;
        this.a = a;
    }

    private long p(int i) {
        return a.rawSlot(i);
    }

    private int i(int i) {
        return (int) a.rawSlot(i);
    }

    private float f(int i) {
        return Float.intBitsToFloat((int) a.rawSlot(i));
    }

    void run() {
        switch (k) {
            case EMBED_F32 -> embed(DeviceDType.F32);
            case EMBED_BF16 -> embed(DeviceDType.BF16);
            case EMBED_F16 -> embed(DeviceDType.F16);
            case RMSNORM -> rmsnorm();
            case ROPE_KV_STORE -> ropeKvStore();
            case SWIGLU -> swiglu();
            case RESIDUAL_SEAM -> seam(false);
            case RESIDUAL_SEAM_RMSNORM -> seam(true);
            case GATE_DECIDE -> gate();
            case ARGMAX -> argmax();
            case MATVEC_F32 -> matvec(DeviceDType.F32, true);
            case MATVEC_BF16 -> matvec(DeviceDType.BF16, true);
            case MATVEC_F16 -> matvec(DeviceDType.F16, true);
            case MATVEC_SWIGLU_F32 -> matvecSwiglu(DeviceDType.F32, true);
            case MATVEC_SWIGLU_BF16 -> matvecSwiglu(DeviceDType.BF16, true);
            case MATVEC_SWIGLU_F16 -> matvecSwiglu(DeviceDType.F16, true);
            case MATVEC_F32_UNALIGNED -> matvec(DeviceDType.F32, false);
            case MATVEC_BF16_UNALIGNED -> matvec(DeviceDType.BF16, false);
            case MATVEC_F16_UNALIGNED -> matvec(DeviceDType.F16, false);
            case MATVEC_SWIGLU_F32_UNALIGNED -> matvecSwiglu(DeviceDType.F32, false);
            case MATVEC_SWIGLU_BF16_UNALIGNED -> matvecSwiglu(DeviceDType.BF16, false);
            case MATVEC_SWIGLU_F16_UNALIGNED -> matvecSwiglu(DeviceDType.F16, false);
            case MATMUL_TC_BF16 -> matmul(DeviceDType.BF16);
            case MATMUL_TC_F16 -> matmul(DeviceDType.F16);
            case ATTENTION -> attention();
            case ATTENTION_COMBINE -> combine();
        }
    }

    private void embed(DeviceDType t) {
        long table = p(0), tokens = p(1), x = p(3);
        int token0 = i(2), hidden = i(4);
        for (int row = 0; row < g.gridX(); row++) {
            int id = tokens == 0 ? token0 : m.i(tokens, row);
            if (id < 0) {
                continue;
            }
            for (int c = 0; c < hidden; c++) {
                m.setF(x, (long) row * hidden + c, m.w(t, table, (long) id * hidden + c));
            }
        }
    }

    private void rmsnorm() {
        long x = p(0), w = p(1), out = p(2);
        int hidden = i(3);
        float eps = f(4);
        for (int row = 0; row < g.gridX(); row++) {
            long o = (long) row * hidden;
            float ss = 0f;
            for (int c = 0; c < hidden; c++) {
                float v = m.f(x, o + c);
                ss += v * v;
            }
            float inv = (float) (1.0 / Math.sqrt(ss / (float) hidden + eps));
            for (int c = 0; c < hidden; c++) {
                m.setF(out, o + c, m.f(w, c) * (m.f(x, o + c) * inv));
            }
        }
    }

    private void ropeKvStore() {
        long qkv = p(0), inv = p(1), pos = p(2), slot = p(3), ctx = p(4), kbase = p(5), vbase = p(6);
        int layer = i(7), nHeads = i(8), nKv = i(9), headDim = i(10), half = headDim / 2;
        int qDim = nHeads * headDim, kvDim = nKv * headDim;
        for (int row = 0; row < g.gridX(); row++) {
            long r = (long) row * (qDim + 2 * kvDim);
            long off = ((long) layer * m.i(ctx, row) + m.i(slot, row)) * kvDim;
            long kc = m.l(kbase, row), vc = m.l(vbase, row);
            float pp = (float) m.i(pos, row);
            for (int head = 0; head < nHeads + nKv; head++) {
                for (int e = 0; e < half; e++) {
                    long h = r + (long) head * headDim;
                    float x1 = m.f(qkv, h + e), x2 = m.f(qkv, h + e + half);
                    float y1 = x1, y2 = x2;
                    if (inv != 0) {
                        float angle = pp * m.f(inv, e);
                        float c = (float) Math.cos(angle);
                        float s = (float) Math.sin(angle);
                        y1 = x1 * c - x2 * s;
                        y2 = x2 * c + x1 * s;
                    }
                    if (head < nHeads) {
                        if (inv != 0) {
                            m.setF(qkv, h + e, y1);
                            m.setF(qkv, h + e + half, y2);
                        }
                    } else {
                        long o = off + (long) (head - nHeads) * headDim;
                        m.setF(kc, o + e, y1);
                        m.setF(kc, o + e + half, y2);
                    }
                }
            }
            for (int c = 0; c < kvDim; c++) {
                m.setF(vc, off + c, m.f(qkv, r + qDim + kvDim + c));
            }
        }
    }

    private void swiglu() {
        long gu = p(0), h = p(1);
        int inter = i(2), n = i(3);
        long threads = (long) g.gridX() * g.blockX();
        for (long idx = 0; idx < Math.min(threads, (long) n * inter); idx++) {
            long row = idx / inter, j = idx % inter;
            float gv = m.f(gu, row * 2 * inter + j);
            m.setF(h, idx, gv / (1f + (float) Math.exp(-gv)) * m.f(gu, row * 2 * inter + inter + j));
        }
    }

    private void seam(boolean norm) {
        long x = p(0), delta = p(1), v = p(2), gate = p(4), probeW = p(5), probeOut = p(6);
        float scale = f(3);
        int probeRow = i(7), hidden = i(8);
        for (int row = 0; row < g.gridX(); row++) {
            boolean steer = v != 0 && (gate == 0 || m.i(gate, 0) != 0);
            boolean probe = probeW != 0 && row == probeRow;
            float acc = 0f;
            for (int c = 0; c < hidden; c++) {
                long o = (long) row * hidden + c;
                float val = m.f(x, o) + m.f(delta, o);
                if (steer) {
                    val += scale * m.f(v, c);
                }
                m.setF(x, o, val);
                if (probe) {
                    acc += val * m.f(probeW, c);
                }
            }
            if (probe) {
                m.setF(probeOut, 0, acc);
            }
            if (norm) {   // then rmsnorm of the new row into xb, as the rmsnorm kernel does
                long w = p(9), xb = p(10);
                float eps = f(11), ss = 0f;
                for (int c = 0; c < hidden; c++) {
                    float val = m.f(x, (long) row * hidden + c);
                    ss += val * val;
                }
                float inv = (float) (1.0 / Math.sqrt(ss / (float) hidden + eps));
                for (int c = 0; c < hidden; c++) {
                    m.setF(xb, (long) row * hidden + c, m.f(w, c) * (m.f(x, (long) row * hidden + c) * inv));
                }
            }
        }
    }

    private void gate() {
        long x = p(0), dir = p(1), flag = p(5), score = p(6);
        float bias = f(2);
        int row = i(3), hidden = i(4);
        float acc = 0f;
        for (int c = 0; c < hidden; c++) {
            acc += m.f(x, (long) row * hidden + c) * m.f(dir, c);
        }
        float s = acc + bias;
        m.setF(score, 0, s);
        m.setI(flag, 0, s > 0f ? 1 : 0);
    }

    private void argmax() {
        long v = p(0), out = p(2);
        int n = i(1);
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (m.f(v, j) > m.f(v, best)) {
                best = j;
            }
        }
        m.setI(out, 0, best);
    }

    /** The aligned kernels read 16 bytes at a time: on other row lengths they would read wrong values. */
    private static void requireAligned(DeviceDType t, boolean aligned, int cols) {
        if (aligned && !t.aligned(cols)) {
            throw new IllegalStateException("aligned " + t + " kernel launched on rows of " + cols + " values");
        }
    }

    private void matvec(DeviceDType t, boolean aligned) {
        long w = p(0), x = p(1), y = p(3), bias = p(5);
        int xs = i(2), ys = i(4), rows = i(6), cols = i(7);
        requireAligned(t, aligned, cols);
        int warps = g.blockX() / 32;
        for (int vec = 0; vec < g.gridY(); vec++) {
            for (int bx = 0; bx < g.gridX(); bx++) {
                for (int wi = 0; wi < warps; wi++) {
                    int row = bx * warps + wi;
                    if (row >= rows) {
                        continue;
                    }
                    float acc = dot(t, w, (long) row * cols, x, (long) vec * xs, cols);
                    m.setF(y, (long) vec * ys + row, bias == 0 ? acc : acc + m.f(bias, row));
                }
            }
        }
    }

    private void matvecSwiglu(DeviceDType t, boolean aligned) {
        long w = p(0), x = p(1), h = p(3), bias = p(4);
        int xs = i(2), inter = i(5), cols = i(6);
        requireAligned(t, aligned, cols);
        int warps = g.blockX() / 32;
        for (int vec = 0; vec < g.gridY(); vec++) {
            for (int bx = 0; bx < g.gridX(); bx++) {
                for (int wi = 0; wi < warps; wi++) {
                    int j = bx * warps + wi;
                    if (j >= inter) {
                        continue;
                    }
                    float gv = dot(t, w, (long) j * cols, x, (long) vec * xs, cols);
                    float u = dot(t, w, (long) (inter + j) * cols, x, (long) vec * xs, cols);
                    if (bias != 0) {
                        gv += m.f(bias, j);
                        u += m.f(bias, inter + j);
                    }
                    m.setF(h, (long) vec * inter + j, gv / (1f + (float) Math.exp(-gv)) * u);
                }
            }
        }
    }

    private void matmul(DeviceDType t) {
        long x = p(0), w = p(1), y = p(2), bias = p(4);
        int ys = i(3), n = i(5), rows = i(6), cols = i(7);
        for (int by = 0; by < g.gridY(); by++) {
            for (int bx = 0; bx < g.gridX(); bx++) {
                for (int r = 0; r < 64; r++) {
                    for (int c = 0; c < 64; c++) {
                        int gr = by * 64 + r, gc = bx * 64 + c;
                        if (gr < n && gc < rows) {
                            float v = splitDot(t, w, (long) gc * cols, x, (long) gr * cols, cols);
                            m.setF(y, (long) gr * ys + gc, bias == 0 ? v : v + m.f(bias, gc));
                        }
                    }
                }
            }
        }
    }

    /** The tensor-core product: x = hi + lo, each rounded to the weight type; w*hi + w*lo summed in float. */
    private float splitDot(DeviceDType t, long w, long wOff, long x, long xOff, int cols) {
        float acc = 0f;
        for (int c = 0; c < cols; c++) {
            float wv = m.w(t, w, wOff + c);
            float xv = m.f(x, xOff + c);
            float hi = round(t, xv);
            float lo = round(t, xv - hi);
            acc += wv * lo;
            acc += wv * hi;
        }
        return acc;
    }

    static float round(DeviceDType t, float v) {
        return switch (t) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> {
                int bits = Float.floatToRawIntBits(v);
                bits += 0x7fff + ((bits >>> 16) & 1);   // round to nearest even (no NaNs here)
                yield Float.intBitsToFloat(bits & 0xffff0000);
            }
        };
    }

    private float dot(DeviceDType t, long w, long wOff, long x, long xOff, int cols) {
        // one bounds check per row, then plain reads (the emulator's hot loop)
        MemorySegment ws = m.mem(w + wOff * t.bytes, (long) cols * t.bytes, k.entry() + " weight row");
        MemorySegment xs = m.mem(x + 4 * xOff, 4L * cols, k.entry() + " input row");
        float acc = 0f;
        for (int c = 0; c < cols; c++) {
            float wv = switch (t) {
                case F32 -> ws.getAtIndex(JAVA_FLOAT, c);
                case BF16 -> Float.intBitsToFloat((ws.getAtIndex(JAVA_SHORT, c) & 0xffff) << 16);
                case F16 -> Float.float16ToFloat(ws.getAtIndex(JAVA_SHORT, c));
            };
            acc += wv * xs.getAtIndex(JAVA_FLOAT, c);
        }
        return acc;
    }

    private void attention() {
        long qkv = p(0), slot = p(2), from = p(3), ctx = p(4), kbase = p(5), vbase = p(6), out = p(8), partO = p(9), partMl = p(10);
        int qs = i(1), layer = i(7), nHeads = i(11), nKv = i(12), headDim = i(13), splits = i(14);
        float scale = f(15);
        int kvDim = nKv * headDim;
        for (int rh = 0; rh < g.gridX(); rh++) {
            for (int split = 0; split < g.gridY(); split++) {
                int row = rh / nHeads, head = rh % nHeads;
                int kvOff = (head / (nHeads / nKv)) * headDim;
                int last = m.i(slot, row);
                long layerOff = (long) layer * m.i(ctx, row) * kvDim;
                long kc = m.l(kbase, row), vc = m.l(vbase, row);
                int splitLen = (last - m.i(from, row) + splits) / splits;
                int t0 = m.i(from, row) + split * splitLen;
                int t1 = Math.min(last + 1, t0 + splitLen);
                long q = (long) row * qs + (long) head * headDim;
                float[] o = new float[headDim];
                float mx = Float.NEGATIVE_INFINITY, l = 0f;
                for (int t = t0; t < t1; t++) {
                    float s = 0f;
                    for (int d = 0; d < headDim; d++) {
                        s += m.f(qkv, q + d) * m.f(kc, layerOff + (long) t * kvDim + kvOff + d);
                    }
                    s *= scale;
                    float mNew = Math.max(mx, s);
                    float corr = (float) Math.exp(mx - mNew);
                    float pr = (float) Math.exp(s - mNew);
                    l = l * corr + pr;
                    for (int d = 0; d < headDim; d++) {
                        o[d] = o[d] * corr + pr * m.f(vc, layerOff + (long) t * kvDim + kvOff + d);
                    }
                    mx = mNew;
                }
                if (splits == 1) {
                    float inv = 1f / l;
                    for (int d = 0; d < headDim; d++) {
                        m.setF(out, (long) row * nHeads * headDim + (long) head * headDim + d, o[d] * inv);
                    }
                } else {
                    long ps = (long) rh * splits + split;
                    for (int d = 0; d < headDim; d++) {
                        m.setF(partO, ps * headDim + d, o[d]);
                    }
                    m.setF(partMl, ps * 2, mx);
                    m.setF(partMl, ps * 2 + 1, l);
                }
            }
        }
    }

    private void combine() {
        long partO = p(0), partMl = p(1), out = p(2);
        int headDim = i(4), splits = i(5);
        for (int rh = 0; rh < g.gridX(); rh++) {
            float mMax = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < splits; s++) {
                mMax = Math.max(mMax, m.f(partMl, ((long) rh * splits + s) * 2));
            }
            for (int d = 0; d < Math.min(headDim, g.blockX()); d++) {
                float l = 0f, o = 0f;
                for (int s = 0; s < splits; s++) {
                    float ms = m.f(partMl, ((long) rh * splits + s) * 2);
                    if (ms == Float.NEGATIVE_INFINITY) {
                        continue;
                    }
                    float wgt = (float) Math.exp(ms - mMax);
                    l += m.f(partMl, ((long) rh * splits + s) * 2 + 1) * wgt;
                    o += m.f(partO, ((long) rh * splits + s) * headDim + d) * wgt;
                }
                m.setF(out, (long) rh * headDim + d, o / l);
            }
        }
    }
}
