// Decode matrix-vector products y = W x (+ bias): memory-bound, so each warp streams whole
// weight rows with 16-byte loads (8 BF16/F16 or 4 F32 values per lane per load, 512 bytes per
// warp per step), eight loads in flight per lane (measured on an H200 at 7B shapes: 3.4-3.9 TB/s
// against 2.5-3.6 with four), and many warps per SM keep many rows in flight.
// Grid y indexes independent input vectors (a small batch reads each weight row once per vector,
// from L2 after the first).
// W: [rows, cols] stored as D::T   x: [vectors, cols] (stride xs)   y: [vectors, ys]   bias: [rows] or null
#include "common.cuh"

// Rows of 16-byte aligned length (row starts are multiples of 16 bytes too): U loads of 16 bytes
// in flight per lane, all issued before any arithmetic.
template <class D, int U>
__device__ __forceinline__ float row_dot_aligned(const typename D::T* w, const float* x, int cols, int lane) {
    constexpr int V = D::VEC;
    float acc[U];
#pragma unroll
    for (int k = 0; k < U; k++) acc[k] = 0.f;
    int c = lane * V;
    for (; c + (U - 1) * 32 * V < cols; c += U * 32 * V) {
        uint4 u[U];
#pragma unroll
        for (int k = 0; k < U; k++) u[k] = __ldg(reinterpret_cast<const uint4*>(w + c + k * 32 * V));
#pragma unroll
        for (int k = 0; k < U; k++) acc[k] += D::dot16(u[k], x + c + k * 32 * V);
    }
    for (; c < cols; c += 32 * V) acc[0] += D::dotvec(w + c, x + c);
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < U; k++) s += acc[k];
    return warp_sum(s);
}

template <class D>
__device__ __forceinline__ float row_dot_unaligned(const typename D::T* w, const float* x, int cols, int lane) {
    float acc = 0.f;
    for (int c = lane; c < cols; c += 32) acc += D::f(w[c]) * x[c];
    return warp_sum(acc);
}

// ALIGNED: the host launches the aligned kernels only for rows of a multiple of VEC values. Not
// decided in the kernel: with both paths in one kernel the aligned one ran 7-20% slower on an H200.
template <class D, bool ALIGNED>
__device__ __forceinline__ float row_dot(const typename D::T* w, const float* x, int cols, int lane) {
    if constexpr (ALIGNED) {
        return row_dot_aligned<D, 8>(w, x, cols, lane);
    } else {
        return row_dot_unaligned<D>(w, x, cols, lane);
    }
}

template <class D, bool ALIGNED>
__device__ void matvec(const typename D::T* W, const float* x, int xs, float* y, int ys, const float* bias,
                       int rows, int cols) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const float* xv = x + (size_t) blockIdx.y * xs;
    float acc = row_dot<D, ALIGNED>(W + (size_t) row * cols, xv, cols, lane);
    if (lane == 0) y[(size_t) blockIdx.y * ys + row] = bias == nullptr ? acc : acc + bias[row];
}

// Gate and up projections with SwiGLU fused: W holds the gate rows then the up rows
// ([2 inter, cols]); h[j] = silu(gate_j . x + bg_j) * (up_j . x + bu_j).   h: [vectors, inter]
template <class D, bool ALIGNED>
__device__ void matvec_swiglu(const typename D::T* W, const float* x, int xs, float* h, const float* bias,
                              int inter, int cols) {
    int lane = threadIdx.x & 31;
    int j = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (j >= inter) return;
    const float* xv = x + (size_t) blockIdx.y * xs;
    float g = row_dot<D, ALIGNED>(W + (size_t) j * cols, xv, cols, lane);
    float u = row_dot<D, ALIGNED>(W + (size_t) (inter + j) * cols, xv, cols, lane);
    if (lane == 0) {
        if (bias != nullptr) {
            g += bias[j];
            u += bias[inter + j];
        }
        h[(size_t) blockIdx.y * inter + j] = g / (1.f + expf(-g)) * u;
    }
}

#define MATVEC(NAME, D, SUFFIX, ALIGNED)                                                                      \
    extern "C" __global__ void matvec_##NAME##SUFFIX(const D::T* W, const float* x, int xs, float* y, int ys,     \
                                                     const float* bias, int rows, int cols) {                    \
        matvec<D, ALIGNED>(W, x, xs, y, ys, bias, rows, cols);                                                    \
    }                                                                                                             \
    extern "C" __global__ void matvec_swiglu_##NAME##SUFFIX(const D::T* W, const float* x, int xs, float* h,     \
                                                            const float* bias, int inter, int cols) {            \
        matvec_swiglu<D, ALIGNED>(W, x, xs, h, bias, inter, cols);                                                \
    }

MATVEC(f32, F32, , true)
MATVEC(bf16, BF16, , true)
MATVEC(f16, F16, , true)
MATVEC(f32, F32, _unaligned, false)
MATVEC(bf16, BF16, _unaligned, false)
MATVEC(f16, F16, _unaligned, false)
