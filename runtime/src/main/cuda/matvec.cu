// Decode matrix-vector products y = W x (+ bias): memory-bound, so each warp streams whole
// weight rows with 16-byte loads (8 BF16/F16 or 4 F32 values per lane per load, 512 bytes per
// warp per step), four loads in flight per lane, and many warps per SM keep many rows in flight.
// Grid y indexes independent input vectors (a small batch reads each weight row once per vector,
// from L2 after the first).
// W: [rows, cols] stored as D::T   x: [vectors, cols] (stride xs)   y: [vectors, ys]   bias: [rows] or null
#include "common.cuh"

template <class D>
__device__ __forceinline__ float row_dot(const typename D::T* w, const float* x, int cols, int lane) {
    float acc0 = 0.f, acc1 = 0.f, acc2 = 0.f, acc3 = 0.f;
    constexpr int V = D::VEC;
    if (cols % V == 0) {   // 16-byte aligned rows (row starts are multiples of 16 bytes too)
        int c = lane * V;
        for (; c + 3 * 32 * V < cols; c += 4 * 32 * V) {
            acc0 += D::dotvec(w + c, x + c);
            acc1 += D::dotvec(w + c + 32 * V, x + c + 32 * V);
            acc2 += D::dotvec(w + c + 64 * V, x + c + 64 * V);
            acc3 += D::dotvec(w + c + 96 * V, x + c + 96 * V);
        }
        for (; c < cols; c += 32 * V) acc0 += D::dotvec(w + c, x + c);
    } else {
        for (int c = lane; c < cols; c += 32) acc0 += D::f(w[c]) * x[c];
    }
    return warp_sum((acc0 + acc1) + (acc2 + acc3));
}

template <class D>
__device__ void matvec(const typename D::T* W, const float* x, int xs, float* y, int ys, const float* bias,
                       int rows, int cols) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const float* xv = x + (size_t) blockIdx.y * xs;
    float acc = row_dot<D>(W + (size_t) row * cols, xv, cols, lane);
    if (lane == 0) y[(size_t) blockIdx.y * ys + row] = bias == nullptr ? acc : acc + bias[row];
}

// Gate and up projections with SwiGLU fused: W holds the gate rows then the up rows
// ([2 inter, cols]); h[j] = silu(gate_j . x + bg_j) * (up_j . x + bu_j).   h: [vectors, inter]
template <class D>
__device__ void matvec_swiglu(const typename D::T* W, const float* x, int xs, float* h, const float* bias,
                              int inter, int cols) {
    int lane = threadIdx.x & 31;
    int j = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (j >= inter) return;
    const float* xv = x + (size_t) blockIdx.y * xs;
    float g = row_dot<D>(W + (size_t) j * cols, xv, cols, lane);
    float u = row_dot<D>(W + (size_t) (inter + j) * cols, xv, cols, lane);
    if (lane == 0) {
        if (bias != nullptr) {
            g += bias[j];
            u += bias[inter + j];
        }
        h[(size_t) blockIdx.y * inter + j] = g / (1.f + expf(-g)) * u;
    }
}

#define MATVEC(NAME, D)                                                                                       \
    extern "C" __global__ void matvec_##NAME(const D::T* W, const float* x, int xs, float* y, int ys,        \
                                             const float* bias, int rows, int cols) {     \
        matvec<D>(W, x, xs, y, ys, bias, rows, cols);                                                         \
    }                                                                                                         \
    extern "C" __global__ void matvec_swiglu_##NAME(const D::T* W, const float* x, int xs, float* h,         \
                                                    const float* bias, int inter, int cols) { \
        matvec_swiglu<D>(W, x, xs, h, bias, inter, cols);                                                     \
    }

MATVEC(f32, F32)
MATVEC(bf16, BF16)
MATVEC(f16, F16)
