package dev.rudder.steering.extract;

/**
 * Streaming first principal component of paired differences {@code d = a - b}: keeps the sum and
 * the sum of outer products (double), then power-iterates on the centred covariance. The sign is
 * chosen so that the positives project higher on average ({@code mean(d) . v >= 0}).
 */
final class PairedPca {
    private final int n;
    private final double[] sum;
    private final double[] outer;   // n x n, row-major
    private int count;

    PairedPca(int n) {
        this.n = n;
        this.sum = new double[n];
        this.outer = new double[n * n];
    }

    void add(float[] a, float[] b) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = (double) a[i] - b[i];
            sum[i] += d[i];
        }
        for (int i = 0; i < n; i++) {
            double di = d[i];
            int row = i * n;
            for (int j = 0; j < n; j++) {
                outer[row + j] += di * d[j];
            }
        }
        count++;
    }

    float[] firstComponent() {
        double[] mean = new double[n];
        for (int i = 0; i < n; i++) {
            mean[i] = sum[i] / count;
        }
        double[] cov = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                cov[i * n + j] = outer[i * n + j] / count - mean[i] * mean[j];
            }
        }
        // deterministic start: the mean difference (or e_0 when it is zero) plus a fixed ramp
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = mean[i] + 1e-3 * (i + 1) / n;
        }
        normalize(v);
        double[] next = new double[n];
        for (int it = 0; it < 500; it++) {
            for (int i = 0; i < n; i++) {
                double acc = 0;
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    acc += cov[row + j] * v[j];
                }
                next[i] = acc;
            }
            if (normalize(next) == 0) {
                break;
            }
            double change = 0;
            for (int i = 0; i < n; i++) {
                change = Math.max(change, Math.abs(Math.abs(next[i]) - Math.abs(v[i])));
            }
            System.arraycopy(next, 0, v, 0, n);
            if (change < 1e-12) {
                break;
            }
        }
        double proj = 0;
        for (int i = 0; i < n; i++) {
            proj += mean[i] * v[i];
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (proj < 0 ? -v[i] : v[i]);
        }
        return out;
    }

    private static double normalize(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        double norm = Math.sqrt(s);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= norm;
            }
        }
        return norm;
    }
}
