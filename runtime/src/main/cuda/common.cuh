// Shared helpers of the Rudder kernels: storage types and warp/block reductions.
// Activations are float32 everywhere; weights are read in their stored type and widened exactly.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>


// ---- storage types: T is how one element is stored, VEC elements make one 16-byte load.
struct F32 {
    typedef float T;
    static constexpr int VEC = 4;
    static __device__ __forceinline__ float f(T v) { return v; }
    // one 16-byte load of weights (u) times the VEC floats of x it covers
    static __device__ __forceinline__ float dot16(uint4 u, const float* x) {
        float4 b = *reinterpret_cast<const float4*>(x);
        return __uint_as_float(u.x) * b.x + __uint_as_float(u.y) * b.y + __uint_as_float(u.z) * b.z + __uint_as_float(u.w) * b.w;
    }
    static __device__ __forceinline__ float dotvec(const T* w, const float* x) {
        return dot16(__ldg(reinterpret_cast<const uint4*>(w)), x);
    }
};

struct BF16 {
    typedef unsigned short T;
    static constexpr int VEC = 8;
    static __device__ __forceinline__ float f(T v) { return __uint_as_float(((unsigned) v) << 16); }
    static __device__ __forceinline__ float lo(unsigned u) { return __uint_as_float(u << 16); }
    static __device__ __forceinline__ float hi(unsigned u) { return __uint_as_float(u & 0xffff0000u); }
    static __device__ __forceinline__ float dotvec(const T* w, const float* x) {
        return dot16(__ldg(reinterpret_cast<const uint4*>(w)), x);
    }
    static __device__ __forceinline__ float dot16(uint4 u, const float* x) {
        float4 a = *reinterpret_cast<const float4*>(x);
        float4 b = *reinterpret_cast<const float4*>(x + 4);
        return lo(u.x) * a.x + hi(u.x) * a.y + lo(u.y) * a.z + hi(u.y) * a.w
             + lo(u.z) * b.x + hi(u.z) * b.y + lo(u.w) * b.z + hi(u.w) * b.w;
    }
};

struct F16 {
    typedef unsigned short T;
    static constexpr int VEC = 8;
    static __device__ __forceinline__ float f(T v) { return __half2float(__ushort_as_half(v)); }
    static __device__ __forceinline__ float2 pair(unsigned u) {
        __half2 h = *reinterpret_cast<__half2*>(&u);
        return __half22float2(h);
    }
    static __device__ __forceinline__ float dotvec(const T* w, const float* x) {
        return dot16(__ldg(reinterpret_cast<const uint4*>(w)), x);
    }
    static __device__ __forceinline__ float dot16(uint4 u, const float* x) {
        float4 a = *reinterpret_cast<const float4*>(x);
        float4 b = *reinterpret_cast<const float4*>(x + 4);
        float2 p0 = pair(u.x), p1 = pair(u.y), p2 = pair(u.z), p3 = pair(u.w);
        return p0.x * a.x + p0.y * a.y + p1.x * a.z + p1.y * a.w
             + p2.x * b.x + p2.y * b.y + p3.x * b.z + p3.y * b.w;
    }
};

// ---- reductions
__device__ __forceinline__ float warp_sum(float v) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    #pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < (int) (blockDim.x >> 5) ? partial[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();   // partial/total may be reused by a following call
    return r;
}
