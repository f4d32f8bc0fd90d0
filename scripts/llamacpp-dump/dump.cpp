// Dumps llama.cpp's logits for the golden fixtures' prompt (every position).
#include "llama.h"
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cstdint>
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: dump MODEL NTOK OUT\n"); return 1; }
    int n = atoi(argv[2]);
    llama_backend_init();
    auto mp = llama_model_default_params();
    if (getenv("NOREPACK")) mp.use_extra_bufts = false;
    llama_model *m = llama_model_load_from_file(argv[1], mp);
    if (!m) return 1;
    auto cp = llama_context_default_params();
    cp.n_ctx = 1024; cp.n_batch = 512; cp.n_ubatch = 512;
    cp.n_threads = 1; cp.n_threads_batch = 1;
    if (getenv("NTHREADS")) { cp.n_threads = cp.n_threads_batch = atoi(getenv("NTHREADS")); }
    if (argc > 4) {
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
        cp.type_k = GGML_TYPE_Q8_0; cp.type_v = GGML_TYPE_Q8_0;
    } else {
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32;
    }
    llama_context *ctx = llama_init_from_model(m, cp);
    std::vector<llama_token> toks; toks.push_back(1);
    uint32_t s = 12345;
    while ((int)toks.size() < n) { s = s*1103515245u + 12345u; toks.push_back(3 + (s >> 8) % 1021); }
    llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) { b.token[i]=toks[i]; b.pos[i]=i; b.n_seq_id[i]=1; b.seq_id[i][0]=0; b.logits[i]=1; }
    b.n_tokens = n;
    if (llama_decode(ctx, b)) { fprintf(stderr, "decode failed\n"); return 1; }
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(m));
    FILE *f = fopen(argv[3], "wb");
    for (int i = 0; i < n; i++) fwrite(llama_get_logits_ith(ctx, i), 4, nv, f);
    fclose(f);
    return 0;
}
