// Row-wise and element-wise kernels of the forward pass: embedding gather, RMSNorm, RoPE with the
// KV-cache store, SwiGLU, the residual seam (steering + probe), the gate, argmax.
// Buffers are row-major float32 unless noted; shapes in the comments, n = rows of the batch.
#include "common.cuh"

// x[i, :] = table[tokens[i], :] widened to float32; rows with tokens[i] < 0 are left alone
// (they hold raw embedding rows uploaded by the host). tokens == null: one row, id token0.
template <class D>
__device__ void embed(const typename D::T* table, const int* tokens, int token0, float* x, int hidden) {
    int row = blockIdx.x;
    int id = tokens == nullptr ? token0 : tokens[row];
    if (id < 0) return;
    const typename D::T* src = table + (size_t) id * hidden;
    float* dst = x + (size_t) row * hidden;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) dst[c] = D::f(src[c]);
}
extern "C" __global__ void embed_f32(const float* table, const int* tokens, int token0, float* x, int hidden) {
    embed<F32>(table, tokens, token0, x, hidden);
}
extern "C" __global__ void embed_bf16(const unsigned short* table, const int* tokens, int token0, float* x, int hidden) {
    embed<BF16>(table, tokens, token0, x, hidden);
}
extern "C" __global__ void embed_f16(const unsigned short* table, const int* tokens, int token0, float* x, int hidden) {
    embed<F16>(table, tokens, token0, x, hidden);
}

// out[i, :] = w * (x[i, :] / rms(x[i, :])), one block per row; rms like the CPU reference:
// inv = 1 / sqrt(ss / n + eps) with the square root in double.
// x, out: [n, hidden]   w: [hidden]
extern "C" __global__ void rmsnorm(const float* x, const float* w, float* out, int hidden, float eps) {
    const float* xr = x + (size_t) blockIdx.x * hidden;
    float* o = out + (size_t) blockIdx.x * hidden;
    float ss = 0.f;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) ss += xr[c] * xr[c];
    ss = block_sum(ss);
    float inv = (float) (1.0 / sqrt((double) (ss / (float) hidden + eps)));
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) o[c] = w[c] * (xr[c] * inv);
}

// RoPE (Hugging Face rotate_half layout: pairs (i, i + headDim/2)) and the KV-cache store in one
// launch: q rotated in place, k rotated on its way into the row's sequence cache at the row's
// slot, v copied there. angle = fl(pos * invFreq[i]) in float32, cos and sin in double rounded to
// float: exactly the CPU's tables. invFreq null: k and v are stored as they are (no rotation).
// Grid (rows, blocks per row): a thread per rotated pair, since each computes a double cos and sin
// (one block per row took 35 us for a Llama-2-7B row on an H200, 2-3 ms of every decoded token).
// qkv: [n, qDim + 2 kvDim]   invFreq: [headDim/2]   pos, slot, ctx, kbase, vbase: the row table [n]
// caches: [layers, ctx, kvDim] per sequence
extern "C" __global__ void rope_kv_store(float* qkv, const float* invFreq, const int* pos, const int* slot, const int* ctx,
                                         const unsigned long long* kbase, const unsigned long long* vbase, int layer,
                                         int nHeads, int nKv, int headDim) {
    int row = blockIdx.x;
    int half = headDim / 2;
    int qDim = nHeads * headDim, kvDim = nKv * headDim;
    float* q = qkv + (size_t) row * (qDim + 2 * kvDim);
    const float* k = q + qDim;
    const float* v = k + kvDim;
    size_t off = ((size_t) layer * ctx[row] + slot[row]) * kvDim;
    float* kc = reinterpret_cast<float*>(kbase[row]) + off;
    float* vc = reinterpret_cast<float*>(vbase[row]) + off;
    float p = (float) pos[row];
    int first = blockIdx.y * blockDim.x + threadIdx.x, stride = gridDim.y * blockDim.x;
    for (int e = first; e < (nHeads + nKv) * half; e += stride) {
        int head = e / half, i = e % half;
        if (invFreq == nullptr) {
            if (head >= nHeads) {
                int o = (head - nHeads) * headDim;
                kc[o + i] = k[o + i];
                kc[o + i + half] = k[o + i + half];
            }
            continue;
        }
        float angle = p * invFreq[i];
        float c = (float) cos((double) angle);
        float s = (float) sin((double) angle);
        if (head < nHeads) {
            float* h = q + head * headDim;
            float x1 = h[i], x2 = h[i + half];
            h[i] = x1 * c - x2 * s;
            h[i + half] = x2 * c + x1 * s;
        } else {
            int o = (head - nHeads) * headDim;
            float x1 = k[o + i], x2 = k[o + i + half];
            kc[o + i] = x1 * c - x2 * s;
            kc[o + i + half] = x2 * c + x1 * s;
        }
    }
    for (int c = first; c < kvDim; c += stride) vc[c] = v[c];
}

// h[i, j] = silu(gu[i, j]) * gu[i, inter + j]
// gu: [n, 2 inter] (gate | up)   h: [n, inter]
extern "C" __global__ void swiglu(const float* gu, float* h, int inter, int n) {
    size_t idx = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t) n * inter) return;
    size_t row = idx / inter, j = idx % inter;
    float g = gu[row * 2 * inter + j];
    h[idx] = g / (1.f + expf(-g)) * gu[row * 2 * inter + inter + j];
}

// The residual seam (DESIGN.md section 3) on one row, one pass over the hidden state:
//   x[i] = x[i] + delta[i] + scale * g * v[i]      (v null: no steering; g = *gate, or 1 if gate null)
//   *probe_out = sum x[i] * probe_w[i]             (when probe; probe_w null: none)
// With g == 0 the steering term is skipped, so a closed gate is the plain model bit for bit.
// Returns this thread's part of sum x[i]^2 (for a fused RMSNorm). probe must be uniform over the block.
__device__ __forceinline__ float seam_row(float* xr, const float* d, const float* v, float scale, const int* gate,
                                          const float* probe_w, float* probe_out, bool probe, int hidden) {
    bool steer = v != nullptr && (gate == nullptr || *gate != 0);
    float acc = 0.f, ss = 0.f;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
        float val = xr[c] + d[c];
        if (steer) val += scale * v[c];
        xr[c] = val;
        ss += val * val;
        if (probe) acc += val * probe_w[c];
    }
    if (probe) {
        acc = block_sum(acc);
        if (threadIdx.x == 0) *probe_out = acc;
    }
    return ss;
}

// The seam on every row of a batch (one block per row); the probe is read on row probe_row.
// x, delta: [n, hidden]   v, probe_w: [hidden]
extern "C" __global__ void residual_seam(float* x, const float* delta, const float* v, float scale, const int* gate,
                                         const float* probe_w, float* probe_out, int probe_row, int hidden) {
    int row = blockIdx.x;
    seam_row(x + (size_t) row * hidden, delta + (size_t) row * hidden, v, scale, gate, probe_w, probe_out,
             probe_w != nullptr && row == probe_row, hidden);
}

// The seam fused with the RMSNorm that follows it (the next step's input), saving a launch and a
// pass: xb[row] = w * (x[row] / rms(x[row])) of the new x. The sum of squares is accumulated by the
// same threads in the same order as in rmsnorm (same block size), so the result is identical.
// x, delta, xb: [n, hidden]   v, probe_w, w: [hidden]
extern "C" __global__ void residual_seam_rmsnorm(float* x, const float* delta, const float* v, float scale, const int* gate,
                                                 const float* probe_w, float* probe_out, int probe_row, int hidden,
                                                 const float* w, float* xb, float eps) {
    int row = blockIdx.x;
    float* xr = x + (size_t) row * hidden;
    float ss = seam_row(xr, delta + (size_t) row * hidden, v, scale, gate, probe_w, probe_out,
                        probe_w != nullptr && row == probe_row, hidden);
    ss = block_sum(ss);
    float inv = (float) (1.0 / sqrt((double) (ss / (float) hidden + eps)));
    float* o = xb + (size_t) row * hidden;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) o[c] = w[c] * (xr[c] * inv);
}

// InferAligner gate, decided on the GPU: score = x[row] . dir + bias; *flag = score > 0.
// Later kernels read flag (residual_seam's gate); the host reads it only for reports.
// One block.   x: [n, hidden]   dir: [hidden]
extern "C" __global__ void gate_decide(const float* x, const float* dir, float bias, int row, int hidden,
                                       int* flag, float* score) {
    const float* xr = x + (size_t) row * hidden;
    float acc = 0.f;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) acc += xr[c] * dir[c];
    acc = block_sum(acc);
    if (threadIdx.x == 0) {
        float s = acc + bias;
        *score = s;
        *flag = s > 0.f ? 1 : 0;
    }
}

// *out = the index of the largest value (the lowest such index on ties). One block.  v: [n]
extern "C" __global__ void argmax(const float* v, int n, int* out) {
    __shared__ float best[1024];
    __shared__ int where[1024];
    float b = -INFINITY;
    int w = 0x7fffffff;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float x = v[i];
        if (x > b) { b = x; w = i; }
    }
    best[threadIdx.x] = b;
    where[threadIdx.x] = w;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float ob = best[threadIdx.x + s];
            int ow = where[threadIdx.x + s];
            if (ob > best[threadIdx.x] || (ob == best[threadIdx.x] && ow < where[threadIdx.x])) {
                best[threadIdx.x] = ob;
                where[threadIdx.x] = ow;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) *out = where[0] == 0x7fffffff ? 0 : where[0];
}
