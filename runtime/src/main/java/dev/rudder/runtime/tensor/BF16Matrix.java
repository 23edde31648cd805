package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.rudder.runtime.kernel.Vectors.F;
import static dev.rudder.runtime.kernel.Vectors.I;

/**
 * bfloat16 weights (the upper 16 bits of a float32), little-endian, row-major. Widening is exact:
 * {@code Float.intBitsToFloat(bits << 16)}. The vector kernel reads pairs of columns as int lanes
 * ({@link ColumnOrder#PAIR}); it lives in the nested {@code Vec} class, loaded only when used.
 */
public final class BF16Matrix extends SegmentMatrix {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public BF16Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    BF16Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 2L * cols, vector);
    }

    @Override
    public DType dtype() {
        return DType.BF16;
    }

    /** Exact bf16 -> float32. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    static float at(MemorySegment seg, long byteOffset) {
        return Float.intBitsToFloat(seg.get(SHORT_LE, byteOffset) << 16);
    }

    @Override
    void rowToFloats(int row, float[] dst, int off) {
        long base = 2L * cols * row;
        for (int c = 0; c < cols; c++) {
            dst[off + c] = at(data, base + 2L * c);
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(data, cols);
    }

    /**
     * One FMA chain per row: per pair block, {@code acc = odd.fma(x_odd, even.fma(x_even, acc))};
     * then the fixed-order lane sum, then the tail columns in order. {@code dot4xN} runs 4n such
     * chains (four rows, n inputs), each pair block loaded and widened once per row and two inputs. The widening
     * ({@link Vectors#bf16Low}, {@link Vectors#bf16High}) is written out in every loop: only Vector API calls are
     * inlined whatever the size of the compilation, and a helper of ours left as a call boxes its vectors (in one of
     * two full test runs at -XX:UseAVX=2 this kernel allocated on every call).
     */
    private static final class Vec implements RowKernel {
        private static final int L = F.length();
        private static final int BLOCK = 2 * L;
        private static final int LEVELS = Integer.numberOfTrailingZeros(L);   // of the lane-sum tree
        private final MemorySegment seg;
        private final int cols;
        private final long rowBytes;
        private final int main;
        private final boolean intOffsets;   // every byte offset fits an int: the batch loop's loads use int offsets

        Vec(MemorySegment seg, int cols) {
            this.seg = seg;
            this.cols = cols;
            this.rowBytes = 2L * cols;
            this.main = ColumnOrder.pairMain(cols);
            this.intOffsets = seg.byteSize() <= Integer.MAX_VALUE;
        }

        @Override
        public ColumnOrder order() {
            return ColumnOrder.PAIR;
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            if (!intOffsets) {
                dot4Wide(r0, r1, r2, r3, x, xOff, res);
                return;
            }
            // int offsets: C2 then hoists the segment's bounds checks out of the loop (long ones left ~25 scalar
            // instructions per load there); single-stream decode 65-67 -> 73 tok/s at 1 thread on the 135M shape
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            int i0 = (int) b0, i1 = (int) b1, i2 = (int) b2, i3 = (int) b3;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += BLOCK) {
                FloatVector x0 = FloatVector.fromArray(F, x, xOff + c);
                FloatVector x1 = FloatVector.fromArray(F, x, xOff + c + L);
                int o = 2 * c;
                IntVector w = IntVector.fromMemorySegment(I, seg, (long) (i0 + o), ByteOrder.LITTLE_ENDIAN);
                a0 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0));
                w = IntVector.fromMemorySegment(I, seg, (long) (i1 + o), ByteOrder.LITTLE_ENDIAN);
                a1 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1));
                w = IntVector.fromMemorySegment(I, seg, (long) (i2 + o), ByteOrder.LITTLE_ENDIAN);
                a2 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a2));
                w = IntVector.fromMemorySegment(I, seg, (long) (i3 + o), ByteOrder.LITTLE_ENDIAN);
                a3 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a3));
            }
            // Vectors.laneSums4 in registers, on the accumulators as they are (written out here: a vector passed to a
            // method C2 does not inline is boxed); through the scratch array, single-stream decode at 2048 columns
            // ran 19-22 GB/s of weights against 26-28 (one thread)
            int[] tree = Vectors.tree();
            IntVector p = IntVector.fromArray(I, tree, 0), q = IntVector.fromArray(I, tree, L);
            IntVector u = a0.reinterpretAsInts(), v = a1.reinterpretAsInts();
            IntVector ab = p.selectFrom(u, v).reinterpretAsFloats().add(q.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            u = a2.reinterpretAsInts();
            v = a3.reinterpretAsInts();
            IntVector cd = p.selectFrom(u, v).reinterpretAsFloats().add(q.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            p = IntVector.fromArray(I, tree, 2 * L);
            q = IntVector.fromArray(I, tree, 3 * L);
            FloatVector sums = p.selectFrom(ab, cd).reinterpretAsFloats().add(q.selectFrom(ab, cd).reinterpretAsFloats());
            for (int level = 2; level < LEVELS; level++) {
                p = IntVector.fromArray(I, tree, 2 * level * L);
                q = IntVector.fromArray(I, tree, (2 * level + 1) * L);
                u = sums.reinterpretAsInts();
                sums = p.selectFrom(u, u).reinterpretAsFloats().add(q.selectFrom(u, u).reinterpretAsFloats());
            }
            tails(sums.lane(0), sums.lane(1), sums.lane(2), sums.lane(3), x, xOff, b0, b1, b2, b3, res);
        }

        /** {@link #dot4} for a matrix of more than 2 GiB: the same operations over long byte offsets. */
        private void dot4Wide(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += BLOCK) {
                FloatVector x0 = FloatVector.fromArray(F, x, xOff + c);
                FloatVector x1 = FloatVector.fromArray(F, x, xOff + c + L);
                long o = 2L * c;
                IntVector w = IntVector.fromMemorySegment(I, seg, b0 + o, ByteOrder.LITTLE_ENDIAN);
                a0 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0));
                w = IntVector.fromMemorySegment(I, seg, b1 + o, ByteOrder.LITTLE_ENDIAN);
                a1 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1));
                w = IntVector.fromMemorySegment(I, seg, b2 + o, ByteOrder.LITTLE_ENDIAN);
                a2 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a2));
                w = IntVector.fromMemorySegment(I, seg, b3 + o, ByteOrder.LITTLE_ENDIAN);
                a3 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(x1, w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a3));
            }
            float[] t = Scratch.get().t(4 * L);  // [4 rows, L lanes], then the 4 sums
            a0.intoArray(t, 0);
            a1.intoArray(t, L);
            a2.intoArray(t, 2 * L);
            a3.intoArray(t, 3 * L);
            Vectors.laneSums4(t);
            tails(t[0], t[1], t[2], t[3], x, xOff, b0, b1, b2, b3, res);
        }

        /**
         * The end of {@link #dot4} (and its wide twin): the four rows' lane sums {@code d0..d3} plus the tail
         * columns in order, into {@code res}.
         */
        private void tails(float d0, float d1, float d2, float d3, float[] x, int xOff, long b0, long b1, long b2, long b3,
                           float[] res) {
            for (int c = main; c < cols; c++) {
                float xv = x[xOff + c];
                long o = 2L * c;
                d0 += at(seg, b0 + o) * xv;
                d1 += at(seg, b1 + o) * xv;
                d2 += at(seg, b2 + o) * xv;
                d3 += at(seg, b3 + o) * xv;
            }
            res[0] = d0;
            res[1] = d1;
            res[2] = d2;
            res[3] = d3;
        }

        /**
         * Inputs two at a time against the four rows (four at a time on AVX-512, {@link #quad}): per pass eight FMA
         * chains, each one {@code dot1}'s, and their lane sums in registers ({@link Vectors#laneSums}'s tree), the
         * pass's 8 sums to the lane scratch, then the tails. Two
         * inputs per pass keep the loop small enough for C2 to inline every vector operation (four hit its
         * inlining node cutoff and boxed vectors); later passes find the four rows in L1. An odd last input is
         * paired with itself (its copy discarded).
         *
         * <p>Weight offsets are ints ({@code (long) (rowStart + 2c)}): with a long {@code rowStart + 2L*c} C2 kept the
         * segment bounds check inside the loop, ~25 scalar instructions per vector load (4 loads per 16 FMAs); with the
         * int form it hoists them (per input, in cache, ~12% faster). A matrix over 2 GiB cannot use int offsets and
         * takes the default, one {@link #dot4} per input (same bits).
         */
        @Override
        public void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
            if (!intOffsets) {
                RowKernel.super.dot4xN(r0, r1, r2, r3, x, base, stride, n, res);
                return;
            }
            int i0 = (int) (r0 * rowBytes), i1 = (int) (r1 * rowBytes), i2 = (int) (r2 * rowBytes), i3 = (int) (r3 * rowBytes);
            long b0 = i0, b1 = i1, b2 = i2, b3 = i3;
            int group = L == 16 && n > 2 ? 4 : 2;           // inputs per pass
            int padded = (n + group - 1) / group * group;
            // [padded inputs, 4 rows] sums; a pass stores a whole vector at its first input's sums, so L floats of room past them
            float[] t = Scratch.get().t(4 * padded + L);
            if (group == 4) {
                for (int i = 0; i < n; i += 4) {
                    quad(i0, i1, i2, i3, x, base + i * stride, stride, Math.min(4, n - i), t, 4 * i);
                }
            } else {
                for (int i = 0; i < n; i += 2) {
                    int oa = base + i * stride;
                    int ob = i + 1 < n ? oa + stride : oa;
                    FloatVector a0a = FloatVector.zero(F), a0b = FloatVector.zero(F);
                    FloatVector a1a = FloatVector.zero(F), a1b = FloatVector.zero(F);
                    FloatVector a2a = FloatVector.zero(F), a2b = FloatVector.zero(F);
                    FloatVector a3a = FloatVector.zero(F), a3b = FloatVector.zero(F);
                    for (int c = 0; c < main; c += BLOCK) {
                        FloatVector ea = FloatVector.fromArray(F, x, oa + c);
                        FloatVector da = FloatVector.fromArray(F, x, oa + c + L);
                        FloatVector eb = FloatVector.fromArray(F, x, ob + c);
                        FloatVector db = FloatVector.fromArray(F, x, ob + c + L);
                        int o = 2 * c;
                        IntVector w = IntVector.fromMemorySegment(I, seg, (long) (i0 + o), ByteOrder.LITTLE_ENDIAN);
                        FloatVector lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                        FloatVector hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                        a0a = hi.fma(da, lo.fma(ea, a0a));
                        a0b = hi.fma(db, lo.fma(eb, a0b));
                        w = IntVector.fromMemorySegment(I, seg, (long) (i1 + o), ByteOrder.LITTLE_ENDIAN);
                        lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                        hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                        a1a = hi.fma(da, lo.fma(ea, a1a));
                        a1b = hi.fma(db, lo.fma(eb, a1b));
                        w = IntVector.fromMemorySegment(I, seg, (long) (i2 + o), ByteOrder.LITTLE_ENDIAN);
                        lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                        hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                        a2a = hi.fma(da, lo.fma(ea, a2a));
                        a2b = hi.fma(db, lo.fma(eb, a2b));
                        w = IntVector.fromMemorySegment(I, seg, (long) (i3 + o), ByteOrder.LITTLE_ENDIAN);
                        lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                        hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                        a3a = hi.fma(da, lo.fma(ea, a3a));
                        a3b = hi.fma(db, lo.fma(eb, a3b));
                    }
                    // the lane-sum tree in registers, as Vectors.laneSums runs it over [2 inputs, 4 rows]: levels 0-1
                    // per input, level 2 across the two, later levels (L = 16) on the one vector paired with itself
                    int[] tree = Vectors.tree();
                    IntVector p0 = IntVector.fromArray(I, tree, 0), q0 = IntVector.fromArray(I, tree, L);
                    IntVector p1 = IntVector.fromArray(I, tree, 2 * L), q1 = IntVector.fromArray(I, tree, 3 * L);
                    IntVector u = a0a.reinterpretAsInts(), v = a1a.reinterpretAsInts();
                    IntVector ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
                    u = a2a.reinterpretAsInts();
                    v = a3a.reinterpretAsInts();
                    IntVector cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
                    IntVector ia = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
                    u = a0b.reinterpretAsInts();
                    v = a1b.reinterpretAsInts();
                    ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
                    u = a2b.reinterpretAsInts();
                    v = a3b.reinterpretAsInts();
                    cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
                    IntVector ib = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
                    if (LEVELS == 2) {                         // L = 4: two levels, each input's vector is done
                        ia.reinterpretAsFloats().intoArray(t, 4 * i);
                        ib.reinterpretAsFloats().intoArray(t, 4 * i + 4);
                    } else {
                        p0 = IntVector.fromArray(I, tree, 4 * L);
                        q0 = IntVector.fromArray(I, tree, 5 * L);
                        u = p0.selectFrom(ia, ib).reinterpretAsFloats().add(q0.selectFrom(ia, ib).reinterpretAsFloats()).reinterpretAsInts();
                        for (int level = 3; level < LEVELS; level++) {
                            p0 = IntVector.fromArray(I, tree, 2 * level * L);
                            q0 = IntVector.fromArray(I, tree, (2 * level + 1) * L);
                            u = p0.selectFrom(u, u).reinterpretAsFloats().add(q0.selectFrom(u, u).reinterpretAsFloats()).reinterpretAsInts();
                        }
                        u.reinterpretAsFloats().intoArray(t, 4 * i);   // [2 inputs, 4 rows] sums (L = 16: 8 spare lanes after)
                    }
                }
            }
            System.arraycopy(t, 0, res, 0, 4 * n);
            for (int c = main; c < cols; c++) {
                long o = 2L * c;
                float w0 = at(seg, b0 + o), w1 = at(seg, b1 + o), w2 = at(seg, b2 + o), w3 = at(seg, b3 + o);
                for (int i = 0; i < n; i++) {
                    float xv = x[base + i * stride + c];
                    res[4 * i] += w0 * xv;
                    res[4 * i + 1] += w1 * xv;
                    res[4 * i + 2] += w2 * xv;
                    res[4 * i + 3] += w3 * xv;
                }
            }
        }

        /**
         * One pass of {@link #dot4xN} over four inputs (the first {@code m} of them at {@code o, o + stride, ..}; the
         * others repeat the first and are discarded): sixteen FMA chains, each {@code dot1}'s, and their lane sums, to
         * {@code t[ta .. ta + 16)} as [4 inputs, 4 rows]; L = 16 only. With 32 vector registers (AVX-512) four inputs per pass
         * load and widen each weight block once per four inputs instead of two. Only Vector API calls in the loop:
         * C2 inlines those whatever the size of the compilation, where a helper of ours past its inlining node cutoff
         * would stay a call and box its vectors (see KernelInliningTest).
         */
        private void quad(int i0, int i1, int i2, int i3, float[] x, int o, int stride, int m, float[] t, int ta) {
            int oa = o, ob = m > 1 ? o + stride : o, oc = m > 2 ? o + 2 * stride : o, od = m > 3 ? o + 3 * stride : o;
            FloatVector a0a = FloatVector.zero(F), a0b = FloatVector.zero(F), a0c = FloatVector.zero(F), a0d = FloatVector.zero(F);
            FloatVector a1a = FloatVector.zero(F), a1b = FloatVector.zero(F), a1c = FloatVector.zero(F), a1d = FloatVector.zero(F);
            FloatVector a2a = FloatVector.zero(F), a2b = FloatVector.zero(F), a2c = FloatVector.zero(F), a2d = FloatVector.zero(F);
            FloatVector a3a = FloatVector.zero(F), a3b = FloatVector.zero(F), a3c = FloatVector.zero(F), a3d = FloatVector.zero(F);
            for (int c = 0; c < main; c += BLOCK) {
                FloatVector ea = FloatVector.fromArray(F, x, oa + c), da = FloatVector.fromArray(F, x, oa + c + L);
                FloatVector eb = FloatVector.fromArray(F, x, ob + c), db = FloatVector.fromArray(F, x, ob + c + L);
                FloatVector ec = FloatVector.fromArray(F, x, oc + c), dc = FloatVector.fromArray(F, x, oc + c + L);
                FloatVector ed = FloatVector.fromArray(F, x, od + c), dd = FloatVector.fromArray(F, x, od + c + L);
                int off = 2 * c;
                IntVector w = IntVector.fromMemorySegment(I, seg, (long) (i0 + off), ByteOrder.LITTLE_ENDIAN);
                FloatVector lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                a0a = hi.fma(da, lo.fma(ea, a0a));
                a0b = hi.fma(db, lo.fma(eb, a0b));
                a0c = hi.fma(dc, lo.fma(ec, a0c));
                a0d = hi.fma(dd, lo.fma(ed, a0d));
                w = IntVector.fromMemorySegment(I, seg, (long) (i1 + off), ByteOrder.LITTLE_ENDIAN);
                lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                a1a = hi.fma(da, lo.fma(ea, a1a));
                a1b = hi.fma(db, lo.fma(eb, a1b));
                a1c = hi.fma(dc, lo.fma(ec, a1c));
                a1d = hi.fma(dd, lo.fma(ed, a1d));
                w = IntVector.fromMemorySegment(I, seg, (long) (i2 + off), ByteOrder.LITTLE_ENDIAN);
                lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                a2a = hi.fma(da, lo.fma(ea, a2a));
                a2b = hi.fma(db, lo.fma(eb, a2b));
                a2c = hi.fma(dc, lo.fma(ec, a2c));
                a2d = hi.fma(dd, lo.fma(ed, a2d));
                w = IntVector.fromMemorySegment(I, seg, (long) (i3 + off), ByteOrder.LITTLE_ENDIAN);
                lo = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                hi = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
                a3a = hi.fma(da, lo.fma(ea, a3a));
                a3b = hi.fma(db, lo.fma(eb, a3b));
                a3c = hi.fma(dc, lo.fma(ec, a3c));
                a3d = hi.fma(dd, lo.fma(ed, a3d));
            }
            // the whole lane-sum tree in registers (L = 16: four levels), as Vectors.laneSums runs it over this pass's
            // 16 accumulators [4 inputs, 4 rows]: levels 0-1 per input (its four rows), levels 2-3 across the four
            // inputs; the one vector left holds the 16 sums in that order
            int[] tree = Vectors.tree();
            IntVector p0 = IntVector.fromArray(I, tree, 0), q0 = IntVector.fromArray(I, tree, L);
            IntVector p1 = IntVector.fromArray(I, tree, 2 * L), q1 = IntVector.fromArray(I, tree, 3 * L);
            IntVector u = a0a.reinterpretAsInts(), v = a1a.reinterpretAsInts();
            IntVector ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            u = a2a.reinterpretAsInts();
            v = a3a.reinterpretAsInts();
            IntVector cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            IntVector ia = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
            u = a0b.reinterpretAsInts();
            v = a1b.reinterpretAsInts();
            ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            u = a2b.reinterpretAsInts();
            v = a3b.reinterpretAsInts();
            cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            IntVector ib = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
            u = a0c.reinterpretAsInts();
            v = a1c.reinterpretAsInts();
            ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            u = a2c.reinterpretAsInts();
            v = a3c.reinterpretAsInts();
            cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            IntVector ic = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
            u = a0d.reinterpretAsInts();
            v = a1d.reinterpretAsInts();
            ab = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            u = a2d.reinterpretAsInts();
            v = a3d.reinterpretAsInts();
            cd = p0.selectFrom(u, v).reinterpretAsFloats().add(q0.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
            IntVector id = p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).reinterpretAsInts();
            p0 = IntVector.fromArray(I, tree, 4 * L);
            q0 = IntVector.fromArray(I, tree, 5 * L);
            p1 = IntVector.fromArray(I, tree, 6 * L);
            q1 = IntVector.fromArray(I, tree, 7 * L);
            ab = p0.selectFrom(ia, ib).reinterpretAsFloats().add(q0.selectFrom(ia, ib).reinterpretAsFloats()).reinterpretAsInts();
            cd = p0.selectFrom(ic, id).reinterpretAsFloats().add(q0.selectFrom(ic, id).reinterpretAsFloats()).reinterpretAsInts();
            p1.selectFrom(ab, cd).reinterpretAsFloats().add(q1.selectFrom(ab, cd).reinterpretAsFloats()).intoArray(t, ta);
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            long b = row * rowBytes;
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < main; c += BLOCK) {
                IntVector w = IntVector.fromMemorySegment(I, seg, b + 2L * c, ByteOrder.LITTLE_ENDIAN);
                a = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c + L),
                        w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c), a));
            }
            float[] t = Scratch.get().t(L);
            a.intoArray(t, 0);
            Vectors.laneSums(t, 1);
            float d = t[0];
            for (int c = main; c < cols; c++) {
                d += at(seg, b + 2L * c) * x[xOff + c];
            }
            return d;
        }

        @Override
        public void widen(int row, float[] dst, int off) {
            long b = row * rowBytes;
            for (int c = 0; c < main; c += BLOCK) {
                IntVector w = IntVector.fromMemorySegment(I, seg, b + 2L * c, ByteOrder.LITTLE_ENDIAN);
                w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + c);
                w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().intoArray(dst, off + c + L);
            }
            for (int c = main; c < cols; c++) {
                dst[off + c] = at(seg, b + 2L * c);
            }
        }
    }
}
