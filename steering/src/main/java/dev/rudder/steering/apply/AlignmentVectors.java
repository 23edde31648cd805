package dev.rudder.steering.apply;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.model.WeightTransform;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Alignment Vectors applied at load time: {@code W + sum_d lambda_d * delta_d}, tensor by tensor,
 * in float32 as {@code fl(W + fl(lambda * delta))} per delta in order. The delta files stay
 * memory-mapped; {@link #setLambda} followed by {@code ModelWeights.remerge()} changes a knob on a
 * loaded model without reopening anything.
 */
public final class AlignmentVectors implements WeightTransform, AutoCloseable {
    private final List<SafeTensorsFile> files = new ArrayList<>();
    private final float[] lambdas;
    private final Set<String> used = new HashSet<>();

    private AlignmentVectors(List<Path> paths, double[] lambdas) {
        if (paths.size() != lambdas.length) {
            throw new IllegalArgumentException("one lambda per delta file");
        }
        this.lambdas = new float[lambdas.length];
        for (int i = 0; i < lambdas.length; i++) {
            setLambda(i, lambdas[i]);
        }
        try {
            for (Path p : paths) {
                files.add(SafeTensorsFile.open(p));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public static AlignmentVectors open(List<Path> deltaFiles, double[] lambdas) {
        return new AlignmentVectors(deltaFiles, lambdas);
    }

    /** Fails before any generation when a delta was made for another architecture or shape. */
    public void checkCompatible(ModelConfig config) {
        for (SafeTensorsFile f : files) {
            String arch = f.metadata().get("rudder.architecture");
            if (arch != null && config.architecture() != null && !arch.equals(config.architecture())) {
                throw new BadInputException("delta " + f.path() + " was made for " + arch + ", the model is " + config.architecture());
            }
        }
    }

    public void setLambda(int index, double lambda) {
        if (!Double.isFinite(lambda)) {
            throw new BadInputException("delta lambda must be finite, got " + lambda);
        }
        lambdas[index] = (float) lambda;
    }

    public int size() {
        return lambdas.length;
    }

    @Override
    public boolean touches(String tensorName) {
        for (SafeTensorsFile f : files) {
            if (f.find(tensorName).isPresent()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public float[] apply(String tensorName, float[] w) {
        for (int d = 0; d < files.size(); d++) {
            SafeTensorsFile f = files.get(d);
            TensorInfo t = f.find(tensorName).orElse(null);
            if (t == null) {
                continue;
            }
            if (t.elementCount() != w.length) {
                throw new BadInputException("delta " + f.path() + " tensor " + tensorName + " has " + t.elementCount()
                        + " elements, the model's has " + w.length + " (delta for another model shape?)");
            }
            used.add(tensorName);
            float c = lambdas[d];
            if (c == 0f) {
                continue;
            }
            float[] delta = TensorStore.toFloats(t);
            for (int i = 0; i < w.length; i++) {
                w[i] = w[i] + c * delta[i];
            }
        }
        return w;
    }

    /** After loading: every delta tensor must have been used by the model, else the delta is for another model. */
    public void checkAllUsed() {
        for (SafeTensorsFile f : files) {
            for (TensorInfo t : f.tensors()) {
                if (!used.contains(t.name())) {
                    throw new BadInputException("delta " + f.path() + " has tensor " + t.name() + " that the model does not use");
                }
            }
        }
    }

    @Override
    public void close() {
        for (SafeTensorsFile f : files) {
            f.close();
        }
    }
}
