package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API building blocks shared by the dtype matrices. Only loaded when the Vector API path
 * is in use (the matrix classes reach it from nested holder classes).
 *
 * <p><b>Pair layout.</b> bf16 weights are loaded as {@code IntVector}s: lane {@code j} of the
 * block starting at column {@code c} holds columns {@code c+2j} (low half) and {@code c+2j+1}
 * (high half). Widening the low halves gives the even columns, the high halves the odd ones, with
 * no shuffles. Activations are brought into the same order once per call ({@link #permute}):
 * block {@code [c, c+2L)} becomes evens then odds; the tail after the last full block stays in
 * natural order. A dot product does not care about order as long as both sides agree.
 */
final class VecOps {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int L = F.length();
    /** Columns per pair-layout block. */
    static final int BLOCK = 2 * L;

    private VecOps() {
    }

    /** Columns covered by full pair-layout blocks. */
    static int pairMain(int cols) {
        return cols - cols % BLOCK;
    }

    /** Copies {@code src[sOff .. sOff+cols)} into {@code dst[dOff ..)} in pair layout. */
    static void permute(float[] src, int sOff, int cols, float[] dst, int dOff) {
        int main = pairMain(cols);
        for (int c = 0; c < main; c += BLOCK) {
            int s = sOff + c;
            int d = dOff + c;
            for (int j = 0; j < L; j++) {
                dst[d + j] = src[s + 2 * j];
                dst[d + L + j] = src[s + 2 * j + 1];
            }
        }
        if (main < cols) {
            System.arraycopy(src, sOff + main, dst, dOff + main, cols - main);
        }
    }

    /** bf16 bits in the low half of each lane -> float. */
    static FloatVector bf16Low(IntVector w) {
        return w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** bf16 bits in the high half of each lane -> float. */
    static FloatVector bf16High(IntVector w) {
        return w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * Sum of {@code t[off .. off+L)} by halving (lane i += lane i+h for h = L/2, L/4, ..., 1): the
     * order of {@code LaneSum.sum}, deterministic whatever the JIT does. Works on an array so no
     * vector crosses a call boundary (a vector argument of a method C2 does not inline gets boxed,
     * i.e. allocated, on every call). Overwrites the lanes.
     */
    static float sumLanes(float[] t, int off) {
        for (int h = L >> 1; h >= 1; h >>= 1) {
            for (int i = 0; i < h; i++) {
                t[off + i] += t[off + i + h];
            }
        }
        return t[off];
    }

    /** {@code sum(a[aOff+i] * b[bOff+i])}, two accumulators, fixed-order lane sum. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n, float[] lanes) {
        int main = F.loopBound(n);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= main; i += 2 * L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
            a1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), a1);
        }
        for (; i < main; i += L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
        }
        a0.add(a1).intoArray(lanes, 0);
        float s = sumLanes(lanes, 0);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * Matmul on widened rows: {@code wt} holds {@code wRows} (1..4) weight rows of length cols at
     * {@code k*cols}; {@code x} holds n activation rows at {@code i*cols}, in the same column
     * order as wt. Writes {@code out[i*outStride + r + k]}.
     */
    static void tile(float[] wt, int wRows, int cols, float[] x, int n, float[] out, int outStride, int r) {
        if (wRows == 4) {
            tile4(wt, cols, x, n, out, outStride, r);
        } else {
            for (int k = 0; k < wRows; k++) {
                tile1(wt, k * cols, cols, x, n, out, outStride, r + k);
            }
        }
    }

    private static void tile4(float[] wt, int cols, float[] x, int n, float[] out, int outStride, int r) {
        float[] lanes = Scratch.get().t(8 * L);
        int main = F.loopBound(cols);
        int w1 = cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            int xa = i * cols;
            int xb = xa + cols;
            FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F);
            FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
            FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
            FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                FloatVector x0 = FloatVector.fromArray(F, x, xa + c);
                FloatVector x1 = FloatVector.fromArray(F, x, xb + c);
                FloatVector v = FloatVector.fromArray(F, wt, c);
                a00 = v.fma(x0, a00);
                a01 = v.fma(x1, a01);
                v = FloatVector.fromArray(F, wt, w1 + c);
                a10 = v.fma(x0, a10);
                a11 = v.fma(x1, a11);
                v = FloatVector.fromArray(F, wt, w2 + c);
                a20 = v.fma(x0, a20);
                a21 = v.fma(x1, a21);
                v = FloatVector.fromArray(F, wt, w3 + c);
                a30 = v.fma(x0, a30);
                a31 = v.fma(x1, a31);
            }
            a00.intoArray(lanes, 0);
            a01.intoArray(lanes, L);
            a10.intoArray(lanes, 2 * L);
            a11.intoArray(lanes, 3 * L);
            a20.intoArray(lanes, 4 * L);
            a21.intoArray(lanes, 5 * L);
            a30.intoArray(lanes, 6 * L);
            a31.intoArray(lanes, 7 * L);
            float s00 = sumLanes(lanes, 0), s01 = sumLanes(lanes, L);
            float s10 = sumLanes(lanes, 2 * L), s11 = sumLanes(lanes, 3 * L);
            float s20 = sumLanes(lanes, 4 * L), s21 = sumLanes(lanes, 5 * L);
            float s30 = sumLanes(lanes, 6 * L), s31 = sumLanes(lanes, 7 * L);
            for (int c = main; c < cols; c++) {
                float x0 = x[xa + c];
                float x1 = x[xb + c];
                s00 += wt[c] * x0;
                s01 += wt[c] * x1;
                s10 += wt[w1 + c] * x0;
                s11 += wt[w1 + c] * x1;
                s20 += wt[w2 + c] * x0;
                s21 += wt[w2 + c] * x1;
                s30 += wt[w3 + c] * x0;
                s31 += wt[w3 + c] * x1;
            }
            int o0 = i * outStride + r;
            int o1 = o0 + outStride;
            out[o0] = s00;
            out[o0 + 1] = s10;
            out[o0 + 2] = s20;
            out[o0 + 3] = s30;
            out[o1] = s01;
            out[o1 + 1] = s11;
            out[o1 + 2] = s21;
            out[o1 + 3] = s31;
        }
        for (; i < n; i++) {
            int xa = i * cols;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                FloatVector x0 = FloatVector.fromArray(F, x, xa + c);
                a0 = FloatVector.fromArray(F, wt, c).fma(x0, a0);
                a1 = FloatVector.fromArray(F, wt, w1 + c).fma(x0, a1);
                a2 = FloatVector.fromArray(F, wt, w2 + c).fma(x0, a2);
                a3 = FloatVector.fromArray(F, wt, w3 + c).fma(x0, a3);
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, L);
            a2.intoArray(lanes, 2 * L);
            a3.intoArray(lanes, 3 * L);
            float s0 = sumLanes(lanes, 0), s1 = sumLanes(lanes, L);
            float s2 = sumLanes(lanes, 2 * L), s3 = sumLanes(lanes, 3 * L);
            for (int c = main; c < cols; c++) {
                float x0 = x[xa + c];
                s0 += wt[c] * x0;
                s1 += wt[w1 + c] * x0;
                s2 += wt[w2 + c] * x0;
                s3 += wt[w3 + c] * x0;
            }
            int o = i * outStride + r;
            out[o] = s0;
            out[o + 1] = s1;
            out[o + 2] = s2;
            out[o + 3] = s3;
        }
    }

    /** One widened row at {@code wt[wOff ..)} against all n inputs. */
    private static void tile1(float[] wt, int wOff, int cols, float[] x, int n, float[] out, int outStride, int r) {
        float[] lanes = Scratch.get().t(8 * L);
        int main = F.loopBound(cols);
        for (int i = 0; i < n; i++) {
            int xa = i * cols;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            int c = 0;
            for (; c + 2 * L <= main; c += 2 * L) {
                a0 = FloatVector.fromArray(F, wt, wOff + c).fma(FloatVector.fromArray(F, x, xa + c), a0);
                a1 = FloatVector.fromArray(F, wt, wOff + c + L).fma(FloatVector.fromArray(F, x, xa + c + L), a1);
            }
            for (; c < main; c += L) {
                a0 = FloatVector.fromArray(F, wt, wOff + c).fma(FloatVector.fromArray(F, x, xa + c), a0);
            }
            a0.add(a1).intoArray(lanes, 0);
            float s = sumLanes(lanes, 0);
            for (; c < cols; c++) {
                s += wt[wOff + c] * x[xa + c];
            }
            out[i * outStride + r] = s;
        }
    }

    /** Rows per transposed matmul tile: two vectors' worth. */
    static final int TILE = 2 * L;

    /**
     * Transposed-tile matmul micro-kernel (outer-product form, no horizontal reductions):
     * {@code wt[c*TILE + j]} holds weight row {@code r+j}, column c (natural column order), for
     * j in [0, TILE). For each group of 6 inputs, 12 accumulators hold out rows r..r+TILE of 6
     * inputs; each column c costs 2 weight loads, 6 broadcasts and 12 FMAs.
     * Writes {@code out[i*outStride + r + j]} for all n inputs and j in [0, TILE).
     */
    static void tileT(float[] wt, int cols, float[] x, int n, float[] out, int outStride, int r) {
        int i = 0;
        for (; i + 6 <= n; i += 6) {
            int x0 = i * cols;
            int x1 = x0 + cols;
            int x2 = x1 + cols;
            int x3 = x2 + cols;
            int x4 = x3 + cols;
            int x5 = x4 + cols;
            FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F), b3 = FloatVector.zero(F);
            FloatVector a4 = FloatVector.zero(F), b4 = FloatVector.zero(F);
            FloatVector a5 = FloatVector.zero(F), b5 = FloatVector.zero(F);
            for (int c = 0; c < cols; c++) {
                int o = c * TILE;
                FloatVector v0 = FloatVector.fromArray(F, wt, o);
                FloatVector v1 = FloatVector.fromArray(F, wt, o + L);
                FloatVector s = FloatVector.broadcast(F, x[x0 + c]);
                a0 = v0.fma(s, a0);
                b0 = v1.fma(s, b0);
                s = FloatVector.broadcast(F, x[x1 + c]);
                a1 = v0.fma(s, a1);
                b1 = v1.fma(s, b1);
                s = FloatVector.broadcast(F, x[x2 + c]);
                a2 = v0.fma(s, a2);
                b2 = v1.fma(s, b2);
                s = FloatVector.broadcast(F, x[x3 + c]);
                a3 = v0.fma(s, a3);
                b3 = v1.fma(s, b3);
                s = FloatVector.broadcast(F, x[x4 + c]);
                a4 = v0.fma(s, a4);
                b4 = v1.fma(s, b4);
                s = FloatVector.broadcast(F, x[x5 + c]);
                a5 = v0.fma(s, a5);
                b5 = v1.fma(s, b5);
            }
            int o = i * outStride + r;
            a0.intoArray(out, o);
            b0.intoArray(out, o + L);
            o += outStride;
            a1.intoArray(out, o);
            b1.intoArray(out, o + L);
            o += outStride;
            a2.intoArray(out, o);
            b2.intoArray(out, o + L);
            o += outStride;
            a3.intoArray(out, o);
            b3.intoArray(out, o + L);
            o += outStride;
            a4.intoArray(out, o);
            b4.intoArray(out, o + L);
            o += outStride;
            a5.intoArray(out, o);
            b5.intoArray(out, o + L);
        }
        for (; i < n; i++) {
            int x0 = i * cols;
            FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
            int c = 0;
            for (; c + 2 <= cols; c += 2) {
                int o = c * TILE;
                FloatVector s = FloatVector.broadcast(F, x[x0 + c]);
                a0 = FloatVector.fromArray(F, wt, o).fma(s, a0);
                b0 = FloatVector.fromArray(F, wt, o + L).fma(s, b0);
                s = FloatVector.broadcast(F, x[x0 + c + 1]);
                a1 = FloatVector.fromArray(F, wt, o + TILE).fma(s, a1);
                b1 = FloatVector.fromArray(F, wt, o + TILE + L).fma(s, b1);
            }
            for (; c < cols; c++) {
                int o = c * TILE;
                FloatVector s = FloatVector.broadcast(F, x[x0 + c]);
                a0 = FloatVector.fromArray(F, wt, o).fma(s, a0);
                b0 = FloatVector.fromArray(F, wt, o + L).fma(s, b0);
            }
            int o = i * outStride + r;
            a0.add(a1).intoArray(out, o);
            b0.add(b1).intoArray(out, o + L);
        }
    }

    /** Widens weight row {@code row} into {@code dst[dOff .. dOff+cols)} in some fixed column order. */
    @FunctionalInterface
    interface RowWidener {
        void widen(int row, float[] dst, int dOff);
    }

    /** Rows per group in the transposed-activation kernel. */
    static final int XT_ROWS = 6;
    /** Widened-weight block budget of the transposed-activation matmul, in floats (256 KB). */
    static final int XT_BLOCK_FLOATS = 64 * 1024;

    /**
     * Matmul with transposed activations, for row ranges at least as long as the batch.
     * {@code x} (n rows of cols) is transposed once per call into slabs of 2L inputs:
     * {@code xT[s*cols*2L + pos(c)*2L + lane]} for input {@code s*2L + lane} (zero padded; pos is
     * the pair-layout position when {@code pairLayout}, else c). Rows are widened (fast,
     * row-major, via {@code widener}, in the same column order) in blocks of at most 256 KB; for
     * each slab, groups of 6 rows run the kernel: per column 6 weight broadcasts x 2 activation
     * vectors = 12 FMAs, no horizontal reductions. The slab (cols*2L floats) stays in L1/L2 across
     * the row groups of a block.
     */
    static void matmulXT(RowWidener widener, boolean pairLayout, int cols, float[] x, int n, float[] out,
                         int outStride, int r0, int r1) {
        // bound the transposed-input scratch: inputs in chunks of at most XT_MAX_INPUTS
        for (int i0 = 0; i0 < n; i0 += XT_MAX_INPUTS) {
            matmulXT(widener, pairLayout, cols, x, i0 * cols, Math.min(XT_MAX_INPUTS, n - i0), out, i0 * outStride,
                    outStride, r0, r1);
        }
    }

    /** Most inputs transposed at once by {@link #matmulXT} (bounds its scratch to 256*cols floats). */
    static final int XT_MAX_INPUTS = 256;

    private static void matmulXT(RowWidener widener, boolean pairLayout, int cols, float[] x, int xOff, int n,
                                 float[] out, int outOff, int outStride, int r0, int r1) {
        final int sl = 2 * L;
        int slabs = (n + sl - 1) / sl;
        Scratch sc = Scratch.get();
        float[] xT = sc.x(slabs * sl * cols);
        transposeInputs(x, xOff, n, cols, pairLayout, xT);
        int blockRows = Math.max(XT_ROWS, XT_BLOCK_FLOATS / Math.max(1, cols) / XT_ROWS * XT_ROWS);
        float[] wt = sc.w(blockRows * cols + XT_ROWS * sl);
        int accOff = blockRows * cols;
        for (int rb = r0; rb < r1; rb += blockRows) {
            int rows = Math.min(blockRows, r1 - rb);
            for (int j = 0; j < rows; j++) {
                widener.widen(rb + j, wt, j * cols);
            }
            int padded = (rows + XT_ROWS - 1) / XT_ROWS * XT_ROWS;
            if (padded > rows) {
                java.util.Arrays.fill(wt, rows * cols, padded * cols, 0f);
            }
            for (int s = 0; s < slabs; s++) {
                int slab = s * sl * cols;
                int i0 = s * sl;
                int iEnd = Math.min(n, i0 + sl);
                for (int g = 0; g < rows; g += XT_ROWS) {
                    kernelXT(wt, g * cols, cols, xT, slab, wt, accOff);
                    int k = Math.min(XT_ROWS, rows - g);
                    int r = rb + g;
                    for (int j = 0; j < k; j++) {
                        int a = accOff + j * sl - i0;
                        for (int i = i0; i < iEnd; i++) {
                            out[outOff + i * outStride + r + j] = wt[a + i];
                        }
                    }
                }
            }
        }
    }

    /**
     * Fills the slab layout of {@link #matmulXT}; padded inputs are zero. Column-block outer,
     * input inner, so each 2L x 2L output block (1 KB on AVX2) is finished while in L1.
     */
    private static void transposeInputs(float[] x, int xOff, int n, int cols, boolean pairLayout, float[] xT) {
        final int sl = 2 * L;
        int slabs = (n + sl - 1) / sl;
        int main = pairMain(cols);
        for (int s = 0; s < slabs; s++) {
            int slab = s * sl * cols;
            int i0 = s * sl;
            int cnt = Math.min(sl, n - i0);
            int base = xOff + i0 * cols;
            for (int c0 = 0; c0 < main; c0 += BLOCK) {
                int d0 = slab + c0 * sl;
                for (int lane = 0; lane < cnt; lane++) {
                    int src = base + lane * cols + c0;
                    int d = d0 + lane;
                    if (pairLayout) {
                        for (int j = 0; j < L; j++) {
                            xT[d + j * sl] = x[src + 2 * j];
                            xT[d + (L + j) * sl] = x[src + 2 * j + 1];
                        }
                    } else {
                        for (int j = 0; j < BLOCK; j++) {
                            xT[d + j * sl] = x[src + j];
                        }
                    }
                }
            }
            for (int c = main; c < cols; c++) {
                for (int lane = 0; lane < cnt; lane++) {
                    xT[slab + c * sl + lane] = x[base + lane * cols + c];
                }
            }
            if (cnt < sl) {
                for (int c = 0; c < cols; c++) {
                    java.util.Arrays.fill(xT, slab + c * sl + cnt, slab + (c + 1) * sl, 0f);
                }
            }
        }
    }

    /**
     * 6 widened rows ({@code wt[w0 + j*cols + c]}) times one slab of 2L transposed inputs;
     * writes {@code acc[accOff + j*2L + lane]}.
     */
    private static void kernelXT(float[] wt, int w0, int cols, float[] xT, int slab, float[] acc, int accOff) {
        int w1 = w0 + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int w4 = w3 + cols;
        int w5 = w4 + cols;
        FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), b4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F), b5 = FloatVector.zero(F);
        for (int c = 0; c < cols; c++) {
            int xo = slab + c * 2 * L;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo);
            FloatVector x1 = FloatVector.fromArray(F, xT, xo + L);
            FloatVector s = FloatVector.broadcast(F, wt[w0 + c]);
            a0 = x0.fma(s, a0);
            b0 = x1.fma(s, b0);
            s = FloatVector.broadcast(F, wt[w1 + c]);
            a1 = x0.fma(s, a1);
            b1 = x1.fma(s, b1);
            s = FloatVector.broadcast(F, wt[w2 + c]);
            a2 = x0.fma(s, a2);
            b2 = x1.fma(s, b2);
            s = FloatVector.broadcast(F, wt[w3 + c]);
            a3 = x0.fma(s, a3);
            b3 = x1.fma(s, b3);
            s = FloatVector.broadcast(F, wt[w4 + c]);
            a4 = x0.fma(s, a4);
            b4 = x1.fma(s, b4);
            s = FloatVector.broadcast(F, wt[w5 + c]);
            a5 = x0.fma(s, a5);
            b5 = x1.fma(s, b5);
        }
        int o = accOff;
        a0.intoArray(acc, o);
        b0.intoArray(acc, o + L);
        a1.intoArray(acc, o + 2 * L);
        b1.intoArray(acc, o + 3 * L);
        a2.intoArray(acc, o + 4 * L);
        b2.intoArray(acc, o + 5 * L);
        a3.intoArray(acc, o + 6 * L);
        b3.intoArray(acc, o + 7 * L);
        a4.intoArray(acc, o + 8 * L);
        b4.intoArray(acc, o + 9 * L);
        a5.intoArray(acc, o + 10 * L);
        b5.intoArray(acc, o + 11 * L);
    }
}
