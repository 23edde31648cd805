/**
 * Weight matrices by storage type, and the drivers that run them.
 *
 * <p>{@link dev.rudder.runtime.tensor.WeightMatrix} is what the forward pass sees: matvec
 * (decode), matvecBatch (several sequences decoded in one step, weights read once, each result
 * bit-identical to its matvec), matmul (prefill) and readRow (embedding lookup), each over a row
 * range so callers can split rows over threads. {@code SegmentMatrix} holds the drivers once
 * (four row streams per thread, leftover rows, batches, argument checks, the scalar reference);
 * {@code MatmulKernel} the prefill driver (rows widened to float in blocks, one float kernel);
 * {@link dev.rudder.runtime.kernel.Vectors} the Vector API basics (species, fixed-order lane
 * sums, dot).
 *
 * <h2>Lane sums</h2>
 * A row dot keeps one vector accumulator per (row, input) over the column blocks; its result is
 * the accumulator's lanes summed by a fixed halving tree ({@code t[i] += t[i+h]}, h = L/2 ... 1),
 * then the tail columns in order, so results do not depend on the JIT or on the path. Kernels
 * store their accumulators to a scratch array and sum all of them at once with
 * {@code Vectors.laneSums}, which runs that same tree for many outputs in vector registers (two
 * permutes and one add per pair of vectors per level, bit-identical to the scalar tree): a
 * batch's 4 rows x n inputs cost about one vector add and two permutes per output instead of
 * L - 1 scalar adds through memory.
 *
 * <h2>How to add a storage type</h2>
 * One class in this package extending {@code SegmentMatrix}, and a case in
 * {@link dev.rudder.runtime.tensor.WeightMatrices#wrap} (plus the {@link
 * dev.rudder.runtime.io.DType} constant). It supplies:
 * <ol>
 *   <li>its bytes per row to the constructor (e.g. a block type of 32 weights in 34 bytes:
 *       {@code cols / 32 * 34}; check {@code cols % 32 == 0} first);</li>
 *   <li>{@code dtype()};</li>
 *   <li>{@code rowToFloats(row, dst, off)}: the exact scalar read (dequantization) of one row,
 *       natural column order. This is the reference: the scalar path (no Vector API) is built
 *       from it, and every test compares against it;</li>
 *   <li>{@code vectorKernel()}: a {@code RowKernel} in a nested class (so the Vector API classes
 *       load only when used) with {@code dot1(row, x, xOff)}, its own row dot over its own layout
 *       (blocks and scales included), {@code dot4} (four rows at once, each bit-identical to
 *       {@code dot1}; four {@code dot1} calls are a correct start), optionally {@code dot4xN} (four
 *       rows times up to 16 inputs for batched decode, each weight block widened once for several
 *       inputs, each result bit-identical to {@code dot1}; the default is one {@code dot4} per input)
 *       and {@code widen(row, dst, off)}, the row dequantized to float, which is all the matmul driver needs to reuse the
 *       float kernel. A kernel that wants its inputs in another column order returns it from
 *       {@code order()} ({@code PAIR} is bf16's); inputs are rearranged once per call.</li>
 * </ol>
 * {@code WeightMatrixTest} then runs it against the double-precision reference, over every row
 * range and batch size, once the type is added to its {@code DTYPES} and fixture.
 */
package dev.rudder.runtime.tensor;
