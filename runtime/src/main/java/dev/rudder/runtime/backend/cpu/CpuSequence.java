package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.steer.SteeringPlan;

import java.util.Arrays;

/**
 * A sequence's state on the heap: KV cache (float32, or F16/BF16 bits that attention widens a tile at a time), RoPE
 * tables, gate, probe readings, last hidden state.
 */
final class CpuSequence implements Sequence {
    final int contextLength;
    final SteeringPlan plan;
    final KvCacheTypes cacheTypes;
    final int kvDim;
    final int keyStride;          // positions per row of the transposed key cache: contextLength rounded up to 16
    final float[][] keyCache;     // [layer][kvDim, keyStride]: keys transposed, a row of positions per head dimension; null unless F32
    final short[][] keyCache16;   // [layer][kvDim, keyStride]: the same as F16 or BF16 bits; null for F32
    final float[][] valueCache;   // [layer][contextLength * kvDim]; null unless F32
    final short[][] valueCache16; // [layer][contextLength * kvDim] as F16 or BF16 bits; null for F32
    final RopeTable rope;
    final float[] probeScores;    // [layer], NaN where no probe was read
    final float[] lastHidden;     // [hidden]
    GateState gateState;
    float gateScore = Float.NaN;

    CpuSequence(ModelConfig cfg, float[] ropeFreqFactors, int contextLength, SteeringPlan plan, KvCacheTypes cacheTypes) {
        this.contextLength = contextLength;
        this.plan = plan;
        this.cacheTypes = cacheTypes;
        kvDim = cfg.numKvHeads() * cfg.headDim();
        keyStride = (int) Math.min(Integer.MAX_VALUE, ((long) contextLength + 15) / 16 * 16);
        if ((long) keyStride * kvDim > Integer.MAX_VALUE) {
            throw new BadInputException("context length " + contextLength + " too large for one KV cache array ("
                    + keyStride + " x " + kvDim + " floats); lower --context");
        }
        // KV cache plus RoPE tables, in long arithmetic: a context the heap cannot hold is an error, not an OutOfMemoryError
        long bytes = contextLength * cacheTypes.bytesPerPosition(cfg) + 2L * contextLength * (cfg.headDim() / 2 + 4) * Float.BYTES;
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && bytes > max / 2) {
            throw new BadInputException(String.format(java.util.Locale.ROOT,
                    "context length %d needs %.1f GiB for the KV cache (%s), more than half of the %.1f GiB the JVM may use;"
                            + " lower --context%s (or raise -Xmx)", contextLength, bytes / 1073741824.0, cacheTypes,
                    max / 1073741824.0, cacheTypes.equals(KvCacheTypes.DEFAULT) ? ", store it in 16 bits (-ctk f16 -ctv f16)" : ""));
        }
        int layers = cfg.numLayers();
        boolean keys32 = cacheTypes.keys() == KvCacheType.F32;
        boolean values32 = cacheTypes.values() == KvCacheType.F32;
        keyCache = keys32 ? new float[layers][keyStride * kvDim] : null;
        keyCache16 = keys32 ? null : new short[layers][keyStride * kvDim];
        valueCache = values32 ? new float[layers][contextLength * kvDim] : null;
        valueCache16 = values32 ? null : new short[layers][contextLength * kvDim];
        rope = new RopeTable(cfg, ropeFreqFactors, contextLength);
        probeScores = new float[cfg.numLayers()];
        Arrays.fill(probeScores, Float.NaN);
        lastHidden = new float[cfg.hiddenSize()];
        gateState = plan.gate() == null ? GateState.NONE : GateState.UNDECIDED;
    }

    /**
     * Stores dimensions [j0, j1) of one position's keys and values ({@code k}, {@code v} at {@code src}, length kvDim)
     * into layer {@code layer}'s cache at {@code slot}, keys transposed; a 16-bit cache rounds each value to nearest.
     */
    void store(int layer, int slot, float[] k, float[] v, int src, int j0, int j1) {
        if (keyCache != null) {
            float[] kT = keyCache[layer];
            for (int j = j0, dst = slot + j0 * keyStride; j < j1; j++, dst += keyStride) {
                kT[dst] = k[src + j];
            }
        } else {
            short[] kT = keyCache16[layer];
            boolean half = cacheTypes.keys() == KvCacheType.F16;
            for (int j = j0, dst = slot + j0 * keyStride; j < j1; j++, dst += keyStride) {
                kT[dst] = half ? Float.floatToFloat16(k[src + j]) : SafeTensorsWriter.floatToBf16(k[src + j]);
            }
        }
        int dst = slot * kvDim;
        if (valueCache != null) {
            System.arraycopy(v, src + j0, valueCache[layer], dst + j0, j1 - j0);
        } else {
            short[] vc = valueCache16[layer];
            boolean half = cacheTypes.values() == KvCacheType.F16;
            for (int j = j0; j < j1; j++) {
                vc[dst + j] = half ? Float.floatToFloat16(v[src + j]) : SafeTensorsWriter.floatToBf16(v[src + j]);
            }
        }
    }

    /**
     * Layer {@code layer}'s 16-bit keys of dimensions [d0, d0 + n) and positions [t0, t1) as floats into
     * {@code tile[d * tileStride + t - t0]} (exact: every 16-bit value is a float).
     */
    void widenKeys(Kernels k, int layer, int d0, int n, int t0, int t1, float[] tile, int tileStride) {
        for (int d = 0; d < n; d++) {
            widen(k, cacheTypes.keys(), keyCache16[layer], (d0 + d) * keyStride + t0, tile, d * tileStride, t1 - t0);
        }
    }

    /** Layer {@code layer}'s 16-bit values of dimensions [d0, d0 + n) at positions [t0, t1) into {@code tile[(t - t0) * n + d]}. */
    void widenValues(Kernels k, int layer, int d0, int n, int t0, int t1, float[] tile) {
        for (int t = t0; t < t1; t++) {
            widen(k, cacheTypes.values(), valueCache16[layer], t * kvDim + d0, tile, (t - t0) * n, n);
        }
    }

    private static void widen(Kernels k, KvCacheType type, short[] src, int sOff, float[] dst, int dOff, int n) {
        if (type == KvCacheType.F16) {
            k.widenHalves(src, sOff, dst, dOff, n);
        } else {
            k.widenBf16(src, sOff, dst, dOff, n);
        }
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public SteeringPlan plan() {
        return plan;
    }

    @Override
    public GateState gateState() {
        return gateState;
    }

    @Override
    public float gateScore() {
        return gateScore;
    }

    @Override
    public float[] probeScores() {
        return probeScores.clone();
    }

    @Override
    public float[] lastHidden() {
        return lastHidden.clone();
    }
}
