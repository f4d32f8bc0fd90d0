package mock

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/quant"
	"asdsl-bench/kernels"
)

// Options control a mock model.
type Options struct {
	Shape Shape
	// Type is F32, F16 or BF16 for the matrices (norms stay F32), unless
	// Quant names a recipe: then the matrices get that recipe's mix of
	// quantized types, laid out as llama-quantize would write them.
	Type     gguf.GGMLType
	Quant    quant.FileType
	Seed     uint64
	Progress func(done, total int64) // bytes; may be nil
	// Log receives notes (a damaged cached file being rebuilt); nil
	// writes them to standard error.
	Log func(string)
}

// Name is the model's format as a short string: "F16", "q4_k_m", ...
func (o Options) Name() string {
	if o.Quant != 0 {
		return o.Quant.String()
	}
	return o.Type.String()
}

type tensorPlan struct {
	spec  gguf.TensorSpec
	std   float64 // weights ~ N(mean, std)
	mean  float64
	index uint64
}

func plan(o Options) []tensorPlan {
	s := o.Shape
	hd := s.Embd / s.Heads
	kv := s.KVHeads * hd
	var ps []tensorPlan
	add := func(name string, typ gguf.GGMLType, mean, std float64, dims ...uint64) {
		ps = append(ps, tensorPlan{gguf.TensorSpec{Name: name, Dims: dims, Type: typ}, std, mean, uint64(len(ps))})
	}
	e, f := uint64(s.Embd), uint64(s.FF)
	// Same statistics as the golden fixtures: embeddings N(0,1),
	// projections N(0,1/fan_in), output x3, norms 1+N(0,0.01).
	add("token_embd.weight", o.Type, 0, 1, e, uint64(s.Vocab))
	for l := 0; l < s.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", gguf.TypeF32, 1, 0.01, e)
		if s.Arch == "phi3" {
			add(p+"attn_qkv.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, e+2*uint64(kv))
		} else {
			add(p+"attn_q.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, e)
			add(p+"attn_k.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, uint64(kv))
			add(p+"attn_v.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, uint64(kv))
		}
		add(p+"attn_output.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, e)
		add(p+"ffn_norm.weight", gguf.TypeF32, 1, 0.01, e)
		if s.Arch == "phi3" {
			add(p+"ffn_up.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, 2*f)
		} else {
			add(p+"ffn_gate.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, f)
			add(p+"ffn_up.weight", o.Type, 0, 1/math.Sqrt(float64(e)), e, f)
		}
		add(p+"ffn_down.weight", o.Type, 0, 1/math.Sqrt(float64(f)), f, e)
	}
	add("output_norm.weight", gguf.TypeF32, 1, 0.01, e)
	add("output.weight", o.Type, 0, 3/math.Sqrt(float64(e)), e, uint64(s.Vocab))
	return ps
}

// Metadata returns the GGUF metadata of a mock model: the same keys as
// llama.cpp's files, tokenizer included, so other readers load it.
func Metadata(s Shape, typ gguf.GGMLType, q quant.FileType) []gguf.KV {
	a := s.Arch
	hd := s.Embd / s.Heads
	fileType := uint32(0)
	switch typ {
	case gguf.TypeF16:
		fileType = 1
	case gguf.TypeBF16:
		fileType = 32
	}
	if q != 0 {
		fileType = uint32(q)
	}
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.Str(a)},
		{Key: "general.name", Value: gguf.Str("asdsl-mock-" + s.Name)},
		{Key: a + ".context_length", Value: gguf.U32(uint32(s.Ctx))},
		{Key: a + ".embedding_length", Value: gguf.U32(uint32(s.Embd))},
		{Key: a + ".block_count", Value: gguf.U32(uint32(s.Layers))},
		{Key: a + ".feed_forward_length", Value: gguf.U32(uint32(s.FF))},
		{Key: a + ".attention.head_count", Value: gguf.U32(uint32(s.Heads))},
		{Key: a + ".attention.head_count_kv", Value: gguf.U32(uint32(s.KVHeads))},
		{Key: a + ".rope.dimension_count", Value: gguf.U32(uint32(hd))},
		{Key: a + ".rope.freq_base", Value: gguf.F32(s.RopeBase)},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: gguf.F32(1e-5)},
		{Key: a + ".vocab_size", Value: gguf.U32(uint32(s.Vocab))},
		{Key: "general.file_type", Value: gguf.U32(fileType)},
	}
	tokens, scores, types := Vocabulary(s.Vocab)
	kv = append(kv,
		gguf.KV{Key: "tokenizer.ggml.model", Value: gguf.Str("llama")},
		gguf.KV{Key: "tokenizer.ggml.tokens", Value: gguf.Strs(tokens)},
		gguf.KV{Key: "tokenizer.ggml.scores", Value: gguf.F32s(scores)},
		gguf.KV{Key: "tokenizer.ggml.token_type", Value: gguf.I32s(types)},
		gguf.KV{Key: "tokenizer.ggml.bos_token_id", Value: gguf.U32(1)},
		gguf.KV{Key: "tokenizer.ggml.eos_token_id", Value: gguf.U32(2)},
		gguf.KV{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.U32(0)},
		gguf.KV{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Bool(true)},
		gguf.KV{Key: "tokenizer.ggml.add_eos_token", Value: gguf.Bool(false)},
	)
	if q != 0 {
		kv = append(kv, gguf.KV{Key: "general.quantization_version", Value: gguf.U32(2)})
	}
	return kv
}

// Vocabulary builds a SentencePiece-style vocabulary of n tokens:
// <unk> <s> </s>, the 256 byte tokens, "▁", printable ASCII with and
// without the space marker, then filler pieces "▁t0", "▁t1", ...
func Vocabulary(n int) (tokens []string, scores []float32, types []int32) {
	push := func(t string, typ int32) {
		if len(tokens) < n {
			tokens = append(tokens, t)
			scores = append(scores, -float32(len(tokens)))
			types = append(types, typ)
		}
	}
	push("<unk>", 2)
	push("<s>", 3)
	push("</s>", 3)
	for b := 0; b < 256; b++ {
		push(fmt.Sprintf("<0x%02X>", b), 6)
	}
	push("▁", 1)
	for c := byte(33); c < 127; c++ {
		push(string(c), 1)
		push("▁"+string(c), 1)
	}
	for i := 0; len(tokens) < n; i++ {
		push(fmt.Sprintf("▁t%d", i), 1)
	}
	return
}

// Write streams a mock model to w.
func Write(w io.Writer, o Options) error {
	switch o.Type {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16:
	default:
		return fmt.Errorf("mock matrices are F32, F16 or BF16 (or a quantization recipe), not %s", o.Type)
	}
	ps := plan(o)
	if o.Quant != 0 {
		// Lay the tensors out and type them as llama-quantize would.
		f := &gguf.File{Tensors: make([]gguf.TensorInfo, len(ps))}
		for i, p := range ps {
			f.Tensors[i] = gguf.TensorInfo{Name: p.spec.Name, Dims: p.spec.Dims, Type: gguf.TypeF32}
		}
		order, types := quant.Plan(f, o.Quant)
		sorted := make([]tensorPlan, len(ps))
		for k, i := range order {
			sorted[k] = ps[i]
			sorted[k].spec.Type = types[k]
		}
		ps = sorted
	}
	specs := make([]gguf.TensorSpec, len(ps))
	var total, done int64
	poolSize := 1
	for i, p := range ps {
		specs[i] = p.spec
		if len(p.spec.Dims) == 2 {
			blocks := p.spec.Dims[0] * p.spec.Dims[1] / p.spec.Type.BlockSize()
			poolSize = max(poolSize, min(maxPoolBlocks, int(blocks)))
		}
		n, err := p.spec.Bytes()
		if err != nil {
			return fmt.Errorf("tensor %q: %w", p.spec.Name, err)
		}
		total += int64(n)
	}
	gw, err := gguf.NewWriter(w, Metadata(o.Shape, o.Type, o.Quant), specs)
	if err != nil {
		return err
	}
	pools := map[poolKey][]byte{}
	var u16 []uint16
	var row []float32
	var buf []byte
	for _, p := range ps {
		cols := int(p.spec.Dims[0])
		rows := 1
		if len(p.spec.Dims) == 2 {
			rows = int(p.spec.Dims[1])
		}
		rng := rand.New(rand.NewPCG(o.Seed, p.index*0x9e3779b97f4a7c15+1))
		quantized := p.spec.Type != gguf.TypeF32 && p.spec.Type != gguf.TypeF16 && p.spec.Type != gguf.TypeBF16
		var pool []byte
		if quantized {
			key := poolKey{p.spec.Type, p.mean, p.std}
			if pool = pools[key]; pool == nil {
				if pool, err = makePool(key, poolSize, o.Seed); err != nil {
					return err
				}
				pools[key] = pool
			}
		}
		row = grow(row, cols)
		for r := 0; r < rows; r++ {
			if quantized {
				buf = samplePoolRow(buf[:0], pool, p.spec.Type, cols, rng)
			} else {
				for i := range row {
					row[i] = float32(p.mean + p.std*rng.NormFloat64())
				}
				buf, u16 = encodeRow(buf[:0], u16, p.spec.Type, row)
			}
			if _, err := gw.Write(buf); err != nil {
				return err
			}
			done += int64(len(buf))
			if o.Progress != nil && (r%256 == 0 || r == rows-1) {
				o.Progress(done, total)
			}
		}
	}
	return gw.Finish()
}

func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

func encodeRow(dst []byte, u16 []uint16, t gguf.GGMLType, row []float32) ([]byte, []uint16) {
	switch t {
	case gguf.TypeF16, gguf.TypeBF16:
		if cap(u16) < len(row) {
			u16 = make([]uint16, len(row))
		}
		u16 = u16[:len(row)]
		if t == gguf.TypeF16 {
			kernels.ConvertRowF16(row, u16)
		} else {
			kernels.ConvertRowBF16(row, u16)
		}
		return append(dst, kernels.BytesOf(u16)...), u16
	}
	return append(dst, kernels.BytesOf(row)...), u16
}
