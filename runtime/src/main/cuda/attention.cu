// Causal attention over the KV cache, one warp per (row, query head, KV split). Rows of a batch
// may belong to different sequences (batched decode), so each row reads its own entries of the
// row table: cache bases, context length (the layer stride of its cache), the last cache index
// it sees (its slot) and the first (from). Each warp walks its split of [from, slot] with an
// online softmax over groups of keys (running max m, running sum l, unnormalised output o); lane L holds elements
// L, L+32, ... of the head (head_dim <= 256).
// splits == 1 (prefill): the warp writes the normalised output directly.
// splits > 1 (decode, long contexts): each split writes (m, l, o) and attention_combine merges
// them, so the work is spread over the KV length instead of only over heads. A row's split s
// covers [from + s * len, from + (s + 1) * len) with len = ceil(span / splits); trailing splits
// of a short row may be empty (m = -inf, l = 0: weight 0 in the combine).
// qkv: [n, qs] (q heads at the start of each row)   caches: [layers, ctx, kvDim] per sequence
// out: [n, qDim]   part_o: [n * nHeads, splits, headDim]   part_ml: [n * nHeads, splits, 2]
// slot, from, ctx, kbase, vbase: [n] (the row table)
#include "common.cuh"

#define MAXJ 8   // head_dim / 32, rounded up

// This lane's elements of key and value row t (zeros beyond headDim, or for t < 0).
__device__ __forceinline__ void load_head(const float* kcache, const float* vcache, int t, int kvDim, int kvOff,
                                          int headDim, int lane, float* k, float* v) {
    const float* kr = kcache + (size_t) (t < 0 ? 0 : t) * kvDim + kvOff;
    const float* vr = vcache + (size_t) (t < 0 ? 0 : t) * kvDim + kvOff;
    #pragma unroll
    for (int j = 0; j < MAXJ; j++) {
        int d = lane + 32 * j;
        bool in = t >= 0 && d < headDim;
        k[j] = in ? kr[d] : 0.f;
        v[j] = in ? vr[d] : 0.f;
    }
}

extern "C" __global__ void attention(const float* qkv, int qs, const int* slot, const int* from, const int* ctx,
                                     const unsigned long long* kbase, const unsigned long long* vbase, int layer,
                                     float* out, float* part_o, float* part_ml, int nHeads, int nKv, int headDim,
                                     int splits, float scale) {
    int lane = threadIdx.x & 31;
    int rh = blockIdx.x;                 // row * nHeads + head
    int row = rh / nHeads, head = rh % nHeads;
    int split = blockIdx.y;
    int kvDim = nKv * headDim;
    int kvOff = (head / (nHeads / nKv)) * headDim;
    int last = slot[row];                // inclusive
    size_t layerOff = (size_t) layer * ctx[row] * kvDim;
    const float* kcache = reinterpret_cast<const float*>(kbase[row]) + layerOff;
    const float* vcache = reinterpret_cast<const float*>(vbase[row]) + layerOff;
    // each row splits its own span: the host passes only the count, so consecutive decode steps
    // launch with the same arguments (a CUDA graph replays them) until the count changes
    int splitLen = (last - from[row] + splits) / splits;   // ceil(span / splits)
    int t0 = from[row] + split * splitLen;
    int t1 = min(last + 1, t0 + splitLen);

    const float* q = qkv + (size_t) row * qs + head * headDim;
    float qv[MAXJ], o[MAXJ];
    #pragma unroll
    for (int j = 0; j < MAXJ; j++) {
        int d = lane + 32 * j;
        qv[j] = d < headDim ? q[d] : 0.f;
        o[j] = 0.f;
    }
    // keys are taken G at a time: their loads are all in flight together and their G warp sums
    // interleave, so a warp waits for memory and for shuffles once per G keys instead of once per key
    constexpr int G = 4;
    float m = -INFINITY, l = 0.f;
    for (int t = t0; t < t1; t += G) {
        float kc[G][MAXJ], vc[G][MAXJ];
        #pragma unroll
        for (int g = 0; g < G; g++) load_head(kcache, vcache, t + g < t1 ? t + g : -1, kvDim, kvOff, headDim, lane, kc[g], vc[g]);
        float s[G];
        #pragma unroll
        for (int g = 0; g < G; g++) {
            float a = 0.f;
            #pragma unroll
            for (int j = 0; j < MAXJ; j++) a += qv[j] * kc[g][j];   // zero beyond headDim
            s[g] = a;
        }
        #pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            #pragma unroll
            for (int g = 0; g < G; g++) s[g] += __shfl_xor_sync(0xffffffffu, s[g], off);
        }
        float mNew = m;
        #pragma unroll
        for (int g = 0; g < G; g++) {
            s[g] = t + g < t1 ? s[g] * scale : -INFINITY;
            mNew = fmaxf(mNew, s[g]);
        }
        float corr = expf(m - mNew);     // 0 on the first keys (m = -inf; s of key t is finite)
        l *= corr;
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) o[j] *= corr;
        #pragma unroll
        for (int g = 0; g < G; g++) {
            float p = expf(s[g] - mNew);   // 0 past the split's end
            l += p;
            #pragma unroll
            for (int j = 0; j < MAXJ; j++) o[j] += p * vc[g][j];
        }
        m = mNew;
    }
    if (splits == 1) {
        float inv = 1.f / l;
        float* dst = out + (size_t) row * nHeads * headDim + head * headDim;
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) {
            int d = lane + 32 * j;
            if (d < headDim) dst[d] = o[j] * inv;
        }
    } else {
        size_t ps = (size_t) rh * splits + split;
        float* dst = part_o + ps * headDim;
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) {
            int d = lane + 32 * j;
            if (d < headDim) dst[d] = o[j];
        }
        if (lane == 0) {
            part_ml[ps * 2] = m;        // -inf for an empty split
            part_ml[ps * 2 + 1] = l;
        }
    }
}

// Merges the splits of each (row, head): o = sum_s o_s e^(m_s - M) / sum_s l_s e^(m_s - M).
// One block of max(64, head_dim rounded up to a warp) threads per (row, head); the weights are
// computed once per split by as many threads (one thread looping over 25 splits took ~9 us).
extern "C" __global__ void attention_combine(const float* part_o, const float* part_ml, float* out,
                                             int nHeads, int headDim, int splits) {
    __shared__ float red[2];             // a value from each of warps 0 and 1
    __shared__ float wgt[64];            // e^(m_s - M) per split (splits <= MAX_SPLITS = 64)
    int rh = blockIdx.x;
    int d = threadIdx.x;                 // blockDim.x >= 64: thread s reads split s's (m, l)
    const float* ml = part_ml + (size_t) rh * splits * 2;
    float ms = d < splits ? ml[2 * d] : -INFINITY;
    float ls = d < splits ? ml[2 * d + 1] : 0.f;
    float mx = warp_max(ms);
    if (d == 0 || d == 32) red[d >> 5] = mx;
    __syncthreads();
    float mMax = fmaxf(red[0], red[1]);
    float wd = ms == -INFINITY ? 0.f : expf(ms - mMax);
    if (d < 64) wgt[d] = wd;
    float lw = warp_sum(ls * wd);
    __syncthreads();                     // red read by all before it is reused
    if (d == 0 || d == 32) red[d >> 5] = lw;
    __syncthreads();
    float l = red[0] + red[1];
    if (d < headDim) {
        const float* po = part_o + (size_t) rh * splits * headDim + d;
        float o = 0.f;
#pragma unroll 8
        for (int s = 0; s < splits; s++) o += po[(size_t) s * headDim] * wgt[s];
        out[(size_t) rh * headDim + d] = o / l;
    }
}
