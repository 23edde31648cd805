package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API building blocks shared by the dtype matrices. Only loaded when the Vector API path
 * is in use (the matrix classes reach it from nested holder classes).
 *
 * <p><b>Pair layout.</b> 16-bit weights are loaded as {@code IntVector}s: lane {@code j} of the
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
     * IEEE binary16 bits in the low 16 bits of each lane (upper bits zero) -> float, exactly
     * (normals, subnormals, signed zeros, infinities, NaNs with payload).
     */
    static FloatVector f16(IntVector h) {
        IntVector em = h.lanewise(VectorOperators.AND, 0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        // exponent rebias by a power-of-two multiply: exact for normals and subnormals
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7C00);
        IntVector bits = finite.blend(shifted.lanewise(VectorOperators.OR, 0x7F800000), special);
        IntVector sign = h.lanewise(VectorOperators.AND, 0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.lanewise(VectorOperators.OR, sign).reinterpretAsFloats();
    }

    static FloatVector f16Low(IntVector w) {
        return f16(w.lanewise(VectorOperators.AND, 0xFFFF));
    }

    static FloatVector f16High(IntVector w) {
        return f16(w.lanewise(VectorOperators.LSHR, 16));
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
            float s00 = a00.reduceLanes(VectorOperators.ADD), s01 = a01.reduceLanes(VectorOperators.ADD);
            float s10 = a10.reduceLanes(VectorOperators.ADD), s11 = a11.reduceLanes(VectorOperators.ADD);
            float s20 = a20.reduceLanes(VectorOperators.ADD), s21 = a21.reduceLanes(VectorOperators.ADD);
            float s30 = a30.reduceLanes(VectorOperators.ADD), s31 = a31.reduceLanes(VectorOperators.ADD);
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
            float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
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
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                s += wt[wOff + c] * x[xa + c];
            }
            out[i * outStride + r] = s;
        }
    }
}
