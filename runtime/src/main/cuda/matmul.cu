// Prefill matrix products on tensor cores: Y = X W^T (+ bias) for BF16/F16 weights with float32
// accumulation (wmma 16x16x16). The activations are float32; to keep float32-like accuracy each
// is split into two values of the weight's type, hi = round(x) and lo = round(x - hi), and both
// halves are multiplied (two MMAs): about 16 significant bits of x instead of 8 (BF16) or 11
// (F16), while the weights are exact. Tensor cores are fast enough that the second MMA is cheap.
// X: [n, cols] float32   W: [rows, cols] BF16/F16   Y: [n, ys] float32 (columns [0, rows))   bias: [rows] or null
// Block: 128 threads = 4 warps as 2x2, a 64 (X rows) x 64 (W rows) output tile, K in steps of 32.
#include "common.cuh"
#include <mma.h>
using namespace nvcuda;

#define TM 64
#define TN 64
#define TK 32
#define LDS (TK + 8)   // shared row pitch in elements: a multiple of 8 as wmma needs, and no bank conflicts

template <typename E> __device__ __forceinline__ E to_e(float v);
template <> __device__ __forceinline__ __nv_bfloat16 to_e<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half to_e<__half>(float v) { return __float2half_rn(v); }
__device__ __forceinline__ float from_e(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float from_e(__half v) { return __half2float(v); }

template <typename E>
__device__ void matmul_tc(const float* X, const unsigned short* W, float* Y, int ys, const float* bias,
                          int n, int rows, int cols) {
    __shared__ __align__(32) E xhi[TM * LDS];
    __shared__ __align__(32) E xlo[TM * LDS];
    __shared__ __align__(32) unsigned short ws[TN * LDS];
    __shared__ __align__(32) float cs[TM * (TN + 4)];

    int tid = threadIdx.x, warp = tid >> 5;
    int wm = warp >> 1, wn = warp & 1;          // this warp's 32x32 quarter of the tile
    int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    #pragma unroll
    for (int i = 0; i < 2; i++)
        #pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

    for (int k0 = 0; k0 < cols; k0 += TK) {
        for (int e = tid; e < TM * TK; e += blockDim.x) {
            int r = e / TK, c = e % TK;
            int gr = m0 + r, gc = k0 + c;
            float v = (gr < n && gc < cols) ? X[(size_t) gr * cols + gc] : 0.f;
            E hi = to_e<E>(v);
            xhi[r * LDS + c] = hi;
            xlo[r * LDS + c] = to_e<E>(v - from_e(hi));
        }
        for (int e = tid; e < TN * TK; e += blockDim.x) {
            int r = e / TK, c = e % TK;
            int gr = n0 + r, gc = k0 + c;
            ws[r * LDS + c] = (gr < rows && gc < cols) ? W[(size_t) gr * cols + gc] : (unsigned short) 0;
        }
        __syncthreads();
        #pragma unroll
        for (int kk = 0; kk < TK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> ah[2], al[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::col_major> b[2];
            #pragma unroll
            for (int i = 0; i < 2; i++) {
                wmma::load_matrix_sync(ah[i], xhi + (wm * 32 + i * 16) * LDS + kk, LDS);
                wmma::load_matrix_sync(al[i], xlo + (wm * 32 + i * 16) * LDS + kk, LDS);
            }
            #pragma unroll
            for (int j = 0; j < 2; j++) {
                // B = W^T (K x N) column-major: element (k, n) at ws[n * LDS + k]
                wmma::load_matrix_sync(b[j], reinterpret_cast<const E*>(ws) + (wn * 32 + j * 16) * LDS + kk, LDS);
            }
            #pragma unroll
            for (int i = 0; i < 2; i++)
                #pragma unroll
                for (int j = 0; j < 2; j++) {
                    wmma::mma_sync(acc[i][j], al[i], b[j], acc[i][j]);
                    wmma::mma_sync(acc[i][j], ah[i], b[j], acc[i][j]);
                }
        }
        __syncthreads();
    }
    #pragma unroll
    for (int i = 0; i < 2; i++)
        #pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(cs + (wm * 32 + i * 16) * (TN + 4) + wn * 32 + j * 16, acc[i][j], TN + 4,
                                    wmma::mem_row_major);
    __syncthreads();
    for (int e = tid; e < TM * TN; e += blockDim.x) {
        int r = e / TN, c = e % TN;
        int gr = m0 + r, gc = n0 + c;
        if (gr < n && gc < rows) {
            float v = cs[r * (TN + 4) + c];
            Y[(size_t) gr * ys + gc] = bias == nullptr ? v : v + bias[gc];
        }
    }
}

extern "C" __global__ void matmul_tc_bf16(const float* X, const unsigned short* W, float* Y, int ys, const float* bias,
                                          int n, int rows, int cols) {
    matmul_tc<__nv_bfloat16>(X, W, Y, ys, bias, n, rows, cols);
}

extern "C" __global__ void matmul_tc_f16(const float* X, const unsigned short* W, float* Y, int ys, const float* bias,
                                         int n, int rows, int cols) {
    matmul_tc<__half>(X, W, Y, ys, bias, n, rows, cols);
}
