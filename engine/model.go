package engine

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/hugemem"
	"asdsl-bench/kernels"
)

// layer holds one transformer block's weights. Projections are either
// separate (llama: q, k, v; gate, up) or fused (phi3: qkv; gate+up), and
// the forward pass splits fused outputs by rows.
type layer struct {
	attnNorm []float32
	qkv      []*Matrix // 1 fused [q;k;v] or 3 separate
	wo       *Matrix
	ffnNorm  []float32
	gateUp   []*Matrix // 1 fused [gate;up] or 2 separate
	down     *Matrix
}

// Model is a loaded GGUF model. Its weights are views into the mapping:
// loading costs no copy and the OS pages weights in on first use.
type Model struct {
	Config  Config
	File    *gguf.File
	Path    string
	tokEmb  *Matrix
	outNorm []float32
	output  *Matrix // may be tokEmb when tied
	layers  []layer
	rope    *ropeTable

	repackOnce    sync.Once
	releaseRepack func() // frees the repacked weights' arena
	prefetchOnce  sync.Once
	// packed: the file holds some matrices only repacked (asdsl-bench
	// repack); unpackOnce gives them their GGUF layout when a session
	// needs it.
	packed     bool
	unpackOnce sync.Once
	// hugeOnce copies a packed file's matrices into 2 MiB pages
	// (copyPackedHuge); releaseHuge frees that arena.
	hugeOnce    sync.Once
	releaseHuge func()
	hugeBytes   int64

	// RepackProgress, when set before the first session, is told how
	// many bytes of weights the load-time repack has done (3-4 s for a
	// 7B model on 2 cores), or for a file written by asdsl-bench repack,
	// how many its copy into 2 MiB pages has (copyPackedHuge).
	RepackProgress func(done, total int64)
}

// startPrefetch starts the prefetch thread, once per model: it walks the
// weights in the order a forward pass reads them and reads each tensor in
// and maps it, one after another, ahead of use (gguf.Populate: madvise
// MADV_POPULATE_READ on Linux, read-ahead advice elsewhere), so a cold
// start does not wait on one page fault at a time. The compute threads
// never wait for it, and it ends when the walk is done. One tensor at a
// time beats advising them all at once: on the repacked 7B mock, cold,
// 2 threads, alternated, TTFT for 32 tokens was 2.87-2.93 s populating in
// order, 3.33-3.69 s with every tensor advised WILLNEED up front (which
// queued the reads of the whole file ahead of the first layer's), and
// 2.95-3.43 s without the thread.
func (m *Model) startPrefetch() {
	m.prefetchOnce.Do(func() {
		// The byte ranges are taken here, not in the goroutine: a later
		// session's copyPackedHuge may point the matrices elsewhere.
		var order [][]byte
		for _, w := range append([]*Matrix{m.tokEmb}, m.projections()...) {
			order = append(order, w.mapped())
		}
		go func() {
			for _, b := range order {
				_ = gguf.Populate(b) // a refusal costs nothing but speed
			}
		}()
	})
}

// repackR4 repacks every Q4_K and Q6_K projection four rows at a time
// for the decode GEMV (once per model; sessions share it). It costs a
// copy of those weights in memory and, for a 7B Q4_K_M model, a few
// seconds. The copies share one hugemem arena, so small matrices get
// 2 MiB pages too; each starts on a cache line. Then the file's pages
// of each repacked matrix may leave the resident set: the kernels read
// the copy from then on, and the mapped pages would only double the
// process's memory (they fault back in if a path without repacked
// kernels, such as the prompt GEMM, reads them).
func (m *Model) repackR4() {
	m.repackOnce.Do(func() {
		const align = 64
		ws := m.projections()
		total := 0
		for _, w := range ws {
			total += (w.RepackBytes() + align - 1) &^ (align - 1)
		}
		if total == 0 {
			return
		}
		arena, release := hugemem.Alloc(total)
		m.releaseRepack = release
		off, done := 0, int64(0)
		for _, w := range ws {
			n := w.RepackBytes()
			if n == 0 {
				continue // not repacked, or the tied output already is
			}
			w.RepackInto(arena[off : off+n : off+n])
			off += (n + align - 1) &^ (align - 1)
			_ = m.File.DontNeed(w.Data) // advice only; a no-op for models parsed from memory
			if done += int64(n); m.RepackProgress != nil {
				m.RepackProgress(done, int64(total))
			}
		}
	})
}

// copyPackedHuge copies the matrices a file holds only repacked into one
// arena of 2 MiB pages, reading the file (not the mapping), and reports
// whether the matrices are in that copy. The first session that reads
// repacked matrices decides for the model (a copy while another session
// reads the mapping would race it): it copies when it wants to (not
// Features.MapInPlace, huge pages available) and the file is warm
// (packedInCache).
// Why: the mapping comes in 4 KiB pages, and a decode step streams every
// weight once, so every 4 KiB is a TLB miss in the middle of the stream;
// on the Phi-4 14B mock (2 threads) decode ran 3.99 t/s from the mapping
// and 5.24 from the copy, at a peak RSS of 8.6 GiB for an 8.44 GiB file.
// The copy reads the file in forward-pass order, so it also stands in
// for the prefetch thread's walk.
func (m *Model) copyPackedHuge(want bool) bool {
	m.hugeOnce.Do(func() {
		if !want || !m.packedInCache() {
			return
		}
		const align = 64
		var ws []*Matrix
		total := 0
		for _, w := range m.projections() {
			if w.packed && w.Data == nil && !slices.Contains(ws, w) {
				ws = append(ws, w)
				total += (len(w.mapped()) + align - 1) &^ (align - 1)
			}
		}
		arena, release := hugemem.Alloc(total)
		m.releaseHuge = release
		off, done := 0, int64(0)
		for _, w := range ws {
			src := w.mapped()
			dst := arena[off : off+len(src) : off+len(src)]
			// Read from the file, not through the mapping: no page of the
			// file is mapped into the process, where populating the
			// mapping first cost a page-table entry per 4 KiB. Warm, 2
			// threads, to the first token of 32: 7B mock 2.7 -> 1.4 s,
			// 14B 8.4 -> 3.6 s, peak RSS 3.7 and 8.0 GiB. From a cold
			// file reading was still slower than mapping in place (7B
			// coldstart 4.8-12 s against 3.1-3.7 s).
			const chunk = 1 << 20
			forGroups((len(src)+chunk-1)/chunk, func(g int) {
				lo, hi := g*chunk, min((g+1)*chunk, len(src))
				if m.File.ReadInto(dst[lo:hi], src[lo:hi]) != nil {
					copy(dst[lo:hi], src[lo:hi]) // through the mapping, then
				}
			})
			if w.Q4KR4 != nil {
				w.Q4KR4 = kernels.AsQ4KR4(dst)
			} else {
				w.Q6KR4 = kernels.AsQ6KR4(dst)
			}
			_ = m.File.DontNeed(src) // advice only: pages a fallback copy mapped
			off += (len(src) + align - 1) &^ (align - 1)
			if done += int64(len(src)); m.RepackProgress != nil {
				m.RepackProgress(done, int64(total))
			}
		}
		m.hugeBytes = done
	})
	return m.hugeBytes > 0
}

// packedInCache says whether the file's repacked matrices are almost all
// in the page cache. From a cold file the copy ran far slower than the
// forward pass reading the mapping (7B mock, coldstart: 6.6-11 s against
// 2.5-3.4 s to the first token), so a cold start maps in place.
func (m *Model) packedInCache() bool {
	var in, all float64
	for _, w := range m.projections() {
		if w.packed && w.Data == nil {
			b := w.mapped()
			in += m.File.InCache(b) * float64(len(b))
			all += float64(len(b))
		}
	}
	return all > 0 && in >= 0.9*all
}

// CopiedFromFile is how many bytes of repacked weights the model's
// sessions read from its own copy instead of the file mapping
// (copyPackedHuge): 0 for a GGUF file without repacked matrices, before
// the first session, from a cold file, or when the first session asked
// for Features.MapInPlace.
func (m *Model) CopiedFromFile() int64 { return m.hugeBytes }

// readsPacked says whether a session with these kernels and features can
// run on repacked-only matrices: every matmul path it can choose has a
// repacked kernel. Otherwise (Features.NoRepack, the float variant, a
// table without repacked GEMMs) the model unpacks them once, at the cost
// of a copy in memory.
func readsPacked(ops *kernels.Ops, f Features) bool {
	return !f.NoRepack && !ops.FloatQ4K && ops.GemvQ4KR4Q8K4x1 != nil && ops.GemmQ4KR4Q8K4x4 != nil &&
		ops.GemvQ6KR4Q8K4x1 != nil && ops.GemmQ6KR4Q8K4x4 != nil
}

// unpackAll gives every repacked-only matrix its GGUF layout (once per
// model). Must not run while a session of the model runs.
func (m *Model) unpackAll() {
	m.unpackOnce.Do(func() {
		for _, w := range m.projections() {
			w.unpack()
		}
	})
}

// architecture describes how one model family names and shapes its
// tensors; one small file per family registers one.
type architecture struct {
	name     string
	ropeNeox bool
	load     func(l *tensorLoader, c *Config, i int) (layer, error)
}

var architectures = map[string]architecture{}

func register(a architecture) { architectures[a.name] = a }

// SupportedArchitectures lists the architectures the engine can run.
func SupportedArchitectures() []string {
	return slices.Sorted(maps.Keys(architectures))
}

// Load opens and maps a GGUF model.
func Load(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := FromFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// FromFile builds a model over an already parsed file.
func FromFile(f *gguf.File) (*Model, error) {
	archName, err := f.Meta.String("general.architecture")
	if err != nil {
		return nil, err
	}
	arch, ok := architectures[archName]
	if !ok {
		return nil, fmt.Errorf("architecture %q is not supported (supported: %v)", archName, SupportedArchitectures())
	}
	cfg, err := readConfig(f, archName, arch.ropeNeox)
	if err != nil {
		return nil, err
	}
	ld := &tensorLoader{f: f, used: map[string]bool{}}
	te, ok := f.Tensor("token_embd.weight")
	if !ok || len(te.Dims) != 2 {
		return nil, fmt.Errorf("tensor \"token_embd.weight\" is missing or not 2-D")
	}
	cfg.NVocab = int(te.Dims[1])
	if err := checkVocabSize(f, archName, cfg.NVocab); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, File: f}
	if m.tokEmb, err = ld.matrix("token_embd.weight", cfg.NEmbd, cfg.NVocab); err != nil {
		return nil, err
	}
	if m.outNorm, err = ld.vector("output_norm.weight", cfg.NEmbd); err != nil {
		return nil, err
	}
	if ld.has("output.weight") {
		if m.output, err = ld.matrix("output.weight", cfg.NEmbd, cfg.NVocab); err != nil {
			return nil, err
		}
	} else {
		m.output = m.tokEmb // tied embeddings
	}
	m.layers = make([]layer, cfg.NLayer)
	for i := range m.layers {
		if m.layers[i], err = arch.load(ld, &cfg, i); err != nil {
			return nil, err
		}
	}
	for _, t := range f.Tensors {
		if !ld.used[t.Name] {
			return nil, fmt.Errorf("tensor %q is not used by the %s architecture (unsupported variant?)", t.Name, archName)
		}
	}
	if m.tokEmb.packed {
		return nil, fmt.Errorf("token_embd.weight is repacked: the embedding lookup reads rows in the GGUF layout")
	}
	for _, w := range m.projections() {
		m.packed = m.packed || w.packed
	}
	m.rope = newRopeTable(cfg.RopeDim, cfg.NCtx, cfg.RopeBase)
	return m, nil
}

// Close releases the repacked weights and the file mapping. No session
// of the model may be running.
func (m *Model) Close() error {
	for _, w := range m.projections() {
		w.Release()
	}
	if m.releaseRepack != nil {
		m.releaseRepack()
	}
	if m.releaseHuge != nil {
		m.releaseHuge()
	}
	return m.File.Close()
}

// projections lists the matrices one decode step multiplies by, in the
// order a forward pass reads them: each layer's q,k,v (or qkv), output
// projection, gate and up (or gate+up) and down, then the output head.
// The embedding table is not among them: a step reads one row of it.
func (m *Model) projections() []*Matrix {
	var ws []*Matrix
	for i := range m.layers {
		l := &m.layers[i]
		ws = append(ws, l.qkv...)
		ws = append(ws, l.wo)
		ws = append(ws, l.gateUp...)
		ws = append(ws, l.down)
	}
	return append(ws, m.output)
}

// WeightBytes is the number of bytes one decode step streams: every
// projection (the embedding table contributes one row).
func (m *Model) WeightBytes() int64 {
	var n int64
	for _, w := range m.projections() {
		n += w.Bytes()
	}
	return n
}

// Params is the model's parameter count: every tensor's elements.
func (m *Model) Params() int64 {
	var n int64
	for _, t := range m.File.Tensors {
		n += int64(t.Elements())
	}
	return n
}

// MatmulMACs is the number of multiply-adds one token's matrix products
// take (rows·cols of every matrix WeightBytes counts): prefill's work per
// token, against which the machine's int8 peak is the roof. Attention's
// own products (which grow with position) are not included.
func (m *Model) MatmulMACs() int64 {
	var n int64
	for _, w := range m.projections() {
		n += int64(w.Rows) * int64(w.Cols)
	}
	return n
}

// common loads the per-layer tensors every family shares.
func commonLayer(ld *tensorLoader, c *Config, i int) (layer, error) {
	var l layer
	var err error
	p := fmt.Sprintf("blk.%d.", i)
	if l.attnNorm, err = ld.vector(p+"attn_norm.weight", c.NEmbd); err != nil {
		return l, err
	}
	if l.ffnNorm, err = ld.vector(p+"ffn_norm.weight", c.NEmbd); err != nil {
		return l, err
	}
	if l.wo, err = ld.matrix(p+"attn_output.weight", c.QDim(), c.NEmbd); err != nil {
		return l, err
	}
	if l.down, err = ld.matrix(p+"ffn_down.weight", c.NFF, c.NEmbd); err != nil {
		return l, err
	}
	return l, nil
}

// checkVocabSize: the embedding's rows, the vocab_size key and the token
// list must agree (llama.cpp's converters pad the list to the rows). A
// file where they do not would hand the sampler ids the tokenizer cannot
// print, or the tokenizer ids past the embedding.
func checkVocabSize(f *gguf.File, arch string, rows int) error {
	if _, ok := f.Meta.Get(arch + ".vocab_size"); ok {
		n, err := f.Meta.Uint(arch + ".vocab_size")
		if err != nil {
			return err
		}
		if n != uint64(rows) {
			return fmt.Errorf("%s.vocab_size is %d, but token_embd.weight has %d rows", arch, n, rows)
		}
	}
	if _, ok := f.Meta.Get("tokenizer.ggml.tokens"); ok {
		a, err := f.Meta.Array("tokenizer.ggml.tokens")
		if err != nil {
			return err
		}
		if a.Len() != rows {
			return fmt.Errorf("the vocabulary has %d tokens, but token_embd.weight has %d rows", a.Len(), rows)
		}
	}
	return nil
}
