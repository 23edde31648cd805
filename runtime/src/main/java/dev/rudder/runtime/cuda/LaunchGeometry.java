package dev.rudder.runtime.cuda;

/**
 * Grid and block dimensions and dynamic shared memory of one kernel launch. The factories
 * encode the mapping each kind of kernel uses, so it is written (and unit-tested) once.
 */
public record LaunchGeometry(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

    public LaunchGeometry {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
            throw new IllegalArgumentException("empty launch: grid " + gridX + "x" + gridY + "x" + gridZ
                    + ", block " + blockX + "x" + blockY + "x" + blockZ);
        }
        if ((long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException("block of " + blockX * blockY * blockZ + " threads (max 1024)");
        }
        if (gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException("grid y/z above 65535");
        }
    }

    /** {@code blocks} blocks of {@code threads} threads in one dimension. */
    public static LaunchGeometry of(int blocks, int threads) {
        return new LaunchGeometry(blocks, 1, 1, threads, 1, 1, 0);
    }

    /** One block per row ({@code rows} rows), {@code threads} threads cooperating on it. */
    public static LaunchGeometry blockPerRow(int rows, int threads) {
        return of(rows, threads);
    }

    /** Enough blocks of {@code threads} threads to give one thread to each of {@code n} elements. */
    public static LaunchGeometry elementwise(long n, int threads) {
        long blocks = (n + threads - 1) / threads;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " elements is too many for one launch");
        }
        return of((int) Math.max(1, blocks), threads);
    }

    /**
     * Matrix-vector products: {@code warps} warps per block, each warp computing
     * {@code rowsPerWarp} consecutive output rows, {@code vectors} input vectors in grid y.
     */
    public static LaunchGeometry warpRows(int rows, int warps, int rowsPerWarp, int vectors) {
        int rowsPerBlock = warps * rowsPerWarp;
        return new LaunchGeometry((rows + rowsPerBlock - 1) / rowsPerBlock, vectors, 1, 32 * warps, 1, 1, 0);
    }

    /** 2-D tiles: {@code rows x cols} outputs in {@code tileRows x tileCols} tiles (grid x over cols). */
    public static LaunchGeometry tiles(int rows, int cols, int tileRows, int tileCols, int threads) {
        return new LaunchGeometry((cols + tileCols - 1) / tileCols, (rows + tileRows - 1) / tileRows, 1, threads, 1, 1, 0);
    }

    public LaunchGeometry withShared(int bytes) {
        return new LaunchGeometry(gridX, gridY, gridZ, blockX, blockY, blockZ, bytes);
    }

    public long threads() {
        return (long) gridX * gridY * gridZ * blockX * blockY * blockZ;
    }
}
