// Causal attention over the KV cache, one warp per (row, query head, KV split). Rows of a batch
// may belong to different sequences (batched decode), so each row reads its own entries of the
// row table: cache bases, context length (the layer stride of its cache), the last cache index
// it sees (its slot) and the first (from). Each warp walks its split of [from, slot] with an
// online softmax (running max m, running sum l, unnormalised output o); lane L holds elements
// L, L+32, ... of the head (head_dim <= 256).
// splits == 1 (prefill): the warp writes the normalised output directly.
// splits > 1 (decode, long contexts): each split writes (m, l, o) and attention_combine merges
// them, so the work is spread over the KV length instead of only over heads.
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
                                     int splits, int splitLen, float scale) {
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
    // the next key and value rows are loaded while the current one is reduced (the loop is
    // otherwise a chain of dependent global loads, which is what limits decode attention)
    float kn[MAXJ], vn[MAXJ];
    load_head(kcache, vcache, t0 < t1 ? t0 : -1, kvDim, kvOff, headDim, lane, kn, vn);
    float m = -INFINITY, l = 0.f;
    for (int t = t0; t < t1; t++) {
        float kc[MAXJ], vc[MAXJ];
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) {
            kc[j] = kn[j];
            vc[j] = vn[j];
        }
        load_head(kcache, vcache, t + 1 < t1 ? t + 1 : -1, kvDim, kvOff, headDim, lane, kn, vn);
        float s = 0.f;
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) s += qv[j] * kc[j];   // zero beyond headDim
        s = warp_sum(s) * scale;
        float mNew = fmaxf(m, s);
        float corr = expf(m - mNew);     // 0 on the first key (m = -inf)
        float p = expf(s - mNew);
        l = l * corr + p;
        #pragma unroll
        for (int j = 0; j < MAXJ; j++) o[j] = o[j] * corr + p * vc[j];
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
// One block of head_dim threads (rounded up to a warp) per (row, head).
extern "C" __global__ void attention_combine(const float* part_o, const float* part_ml, float* out,
                                             int nHeads, int headDim, int splits) {
    int rh = blockIdx.x;
    int d = threadIdx.x;
    const float* ml = part_ml + (size_t) rh * splits * 2;
    float mMax = -INFINITY;
    for (int s = 0; s < splits; s++) mMax = fmaxf(mMax, ml[2 * s]);
    float l = 0.f, o = 0.f;
    for (int s = 0; s < splits; s++) {
        float ms = ml[2 * s];
        if (ms == -INFINITY) continue;
        float w = expf(ms - mMax);
        l += ml[2 * s + 1] * w;
        if (d < headDim) o += part_o[((size_t) rh * splits + s) * headDim + d] * w;
    }
    if (d < headDim) out[(size_t) rh * headDim + d] = o / l;
}
