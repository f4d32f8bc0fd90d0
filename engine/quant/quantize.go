package quant

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
)

// Options control a quantization run.
type Options struct {
	Type     FileType
	Pure     bool                    // every matrix gets the recipe's base type (no mix), as llama-quantize --pure
	Threads  int                     // default: one per CPU
	Progress func(done, total int64) // input bytes converted so far; may be nil
}

// TensorReport says what happened to one tensor.
type TensorReport struct {
	Name      string
	From, To  gguf.GGMLType
	Elements  uint64
	Bytes     uint64 // output bytes
	Fallback  string // set when the preferred type did not fit
	Quantized bool
}

// Report summarises a run.
type Report struct {
	Tensors  []TensorReport
	InBytes  int64
	OutBytes int64
	Weights  uint64 // elements quantized
	Elapsed  time.Duration
}

// chunkElems bounds each work item: a worker converts about this many
// weights at a time, so memory stays at threads × a few MB whatever the
// model size.
const chunkElems = 1 << 20

// File quantizes the GGUF model at inPath into outPath. The output is
// written under a temporary name and renamed at the end: an interrupted
// or failed run leaves nothing under outPath.
func File(inPath, outPath string, o Options) (*Report, error) {
	in, err := gguf.Open(inPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := gguf.CreateAtomic(outPath)
	if err != nil {
		return nil, err
	}
	rep, err := Stream(in, out, o)
	if err != nil {
		out.Abort()
		return nil, err
	}
	if err := out.Commit(); err != nil {
		return nil, err
	}
	return rep, nil
}

// Stream quantizes a parsed model into w.
func Stream(in *gguf.File, w interface{ Write([]byte) (int, error) }, o Options) (*Report, error) {
	if _, ok := fileTypeNames[o.Type]; !ok {
		return nil, fmt.Errorf("unknown quantization type %d", o.Type)
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	order := layerOrder(in.Tensors)
	m := newMix(in, o.Type)
	m.pure = o.Pure
	rep := &Report{}
	specs := make([]gguf.TensorSpec, len(in.Tensors))
	for i, ti := range order {
		t := &in.Tensors[ti]
		to, note := m.choose(t)
		q := quantizable(t)
		if q {
			switch t.Type {
			case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16:
			default:
				return nil, fmt.Errorf("tensor %q is already %s: quantize from an F32, F16 or BF16 model", t.Name, t.Type)
			}
		}
		specs[i] = gguf.TensorSpec{Name: t.Name, Dims: t.Dims, Type: to}
		size, err := specs[i].Bytes()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		rep.Tensors = append(rep.Tensors, TensorReport{Name: t.Name, From: t.Type, To: to, Elements: t.Elements(), Bytes: size, Fallback: note, Quantized: q && to != t.Type})
		rep.InBytes += int64(t.Size)
	}
	gw, err := gguf.NewWriter(w, outputMetadata(in, o.Type), specs)
	if err != nil {
		return nil, err
	}
	var done int64
	for i, ti := range order {
		t := &in.Tensors[ti]
		tr := &rep.Tensors[i]
		if t.Type == tr.To {
			// Unchanged tensors are copied byte for byte.
			if _, err := gw.Write(in.TensorData(t)); err != nil {
				return nil, err
			}
		} else if err := convertTensor(in, t, tr.To, gw, threads); err != nil {
			return nil, err
		}
		if tr.Quantized {
			rep.Weights += tr.Elements
		}
		rep.OutBytes += int64(tr.Bytes)
		done += int64(t.Size)
		if o.Progress != nil {
			o.Progress(done, rep.InBytes)
		}
	}
	if err := gw.Finish(); err != nil {
		return nil, err
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// Plan returns the order llama-quantize writes tensors in and the type
// each gets under the recipe (same order), without converting anything.
// Mock models use it to be laid out like a quantized real model.
func Plan(f *gguf.File, ft FileType) (order []int, types []gguf.GGMLType) {
	order = layerOrder(f.Tensors)
	m := newMix(f, ft)
	for _, i := range order {
		t, _ := m.choose(&f.Tensors[i])
		types = append(types, t)
	}
	return order, types
}

// layerOrder returns tensor indices sorted by layer number (tensors
// outside blk.N first), then by name: llama-quantize's order. The mix's
// per-layer counters depend on it, and it makes our files byte-identical
// to llama.cpp's.
func layerOrder(ts []gguf.TensorInfo) []int {
	layer := func(name string) int {
		rest, ok := strings.CutPrefix(name, "blk.")
		if !ok {
			return -1
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil {
			return -1
		}
		return n
	}
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := layer(ts[order[a]].Name), layer(ts[order[b]].Name)
		if la != lb {
			return la < lb
		}
		return ts[order[a]].Name < ts[order[b]].Name
	})
	return order
}

// outputMetadata copies the input metadata and sets the quantization
// keys last, as llama-quantize does, so readers see the new file type.
func outputMetadata(in *gguf.File, ft FileType) []gguf.KV {
	var kv []gguf.KV
	for _, x := range in.Meta.KVs {
		if x.Key == "general.file_type" || x.Key == "general.quantization_version" {
			continue
		}
		kv = append(kv, x)
	}
	return append(kv,
		gguf.KV{Key: "general.quantization_version", Value: gguf.U32(2)},
		gguf.KV{Key: "general.file_type", Value: gguf.U32(uint32(ft))})
}

// convertTensor decodes the input rows to float32 and encodes them as
// `to`, in chunks of whole rows converted in parallel and written in
// order.
func convertTensor(in *gguf.File, t *gguf.TensorInfo, to gguf.GGMLType, w interface{ Write([]byte) (int, error) }, threads int) error {
	cols := int(t.Dims[0])
	rows := int(t.Rows())
	inRow, _ := t.Type.RowBytes(t.Dims[0])
	outRow, err := to.RowBytes(t.Dims[0])
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	data := in.TensorData(t)
	rowsPerChunk := max(1, chunkElems/cols)
	nChunks := (rows + rowsPerChunk - 1) / rowsPerChunk
	bufs := make([][]byte, threads)
	floats := make([][]float32, threads)
	for c0 := 0; c0 < nChunks; c0 += threads {
		errs := make([]error, threads)
		var wg sync.WaitGroup
		for k := 0; k < threads && c0+k < nChunks; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				r0 := (c0 + k) * rowsPerChunk
				r1 := min(rows, r0+rowsPerChunk)
				n := r1 - r0
				if cap(floats[k]) < n*cols {
					floats[k] = make([]float32, n*cols)
					bufs[k] = make([]byte, rowsPerChunk*int(outRow))
				}
				x := floats[k][:n*cols]
				engine.DequantizeRows(t.Type, data[r0*int(inRow):r1*int(inRow)], x)
				for i, v := range x {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						errs[k] = fmt.Errorf("tensor %q has a non-finite weight (%v) at row %d, column %d", t.Name, v, r0+i/cols, i%cols)
						return
					}
				}
				errs[k] = engine.QuantizeRows(to, x, bufs[k][:n*int(outRow)])
			}(k)
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for k := 0; k < threads && c0+k < nChunks; k++ {
			r0 := (c0 + k) * rowsPerChunk
			n := min(rows, r0+rowsPerChunk) - r0
			if _, err := w.Write(bufs[k][:n*int(outRow)]); err != nil {
				return err
			}
		}
	}
	return nil
}
