package main

import (
	"fmt"
	"os"
	"time"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/progress"
	"asdsl-bench/kernels"
)

// repackAlignment: each tensor starts on a cache line, so every 64-byte
// load of a repacked group (one sub-block of four rows) is one line.
const repackAlignment = 64

func runRepack(args []string) error {
	flags := newFlags("repack", "repack IN.gguf OUT.gguf")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 2 {
		return usagef("want IN.gguf and OUT.gguf")
	}
	in, out := flags.Arg(0), flags.Arg(1)
	if err := distinctFiles(in, out); err != nil {
		return err
	}
	start := time.Now()
	n, err := repackFile(in, out)
	if err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Fprintf(os.Stderr, "wrote %s: %d matrices in the 4-row interleaved layout, %.2f GiB, in %v\n",
		out, n, float64(st.Size())/(1<<30), time.Since(start).Round(time.Millisecond))
	return nil
}

// repackFile writes in's tensors to out with every Q4_K and Q6_K matrix
// whose rows come in fours (the embedding table excepted: a token's
// lookup reads one row) in the layout the decode kernels read
// (kernels.BlockQ4KR4, BlockQ6KR4), so that loading maps it and uses it
// as is. Metadata is copied; asdsl.repacked records what was done. The
// file is written to a temporary name and renamed (gguf.CreateAtomic).
func repackFile(in, out string) (int, error) {
	f, err := gguf.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var meta []gguf.KV
	for _, kv := range f.Meta.KVs {
		switch kv.Key {
		case "general.alignment":
			continue // replaced below
		case "asdsl.repacked":
			return 0, fmt.Errorf("%s is already repacked", in)
		}
		meta = append(meta, kv)
	}
	meta = append(meta,
		gguf.KV{Key: "general.alignment", Value: gguf.Value{Type: gguf.ValUint32, V: uint32(repackAlignment)}},
		gguf.KV{Key: "asdsl.repacked", Value: gguf.Value{Type: gguf.ValString, V: "Q4_K and Q6_K matrices, 4 rows interleaved (kernels.BlockQ4KR4, BlockQ6KR4), v3: Q4_K and Q6_K in chunks"}})
	specs := make([]gguf.TensorSpec, len(f.Tensors))
	packs := make([]bool, len(f.Tensors))
	var total int64
	n := 0
	for i, t := range f.Tensors {
		specs[i] = gguf.TensorSpec{Name: t.Name, Dims: t.Dims, Type: t.Type}
		if rt, ok := t.Type.Repacked(); ok && len(t.Dims) == 2 && t.Dims[1]%4 == 0 && t.Name != "token_embd.weight" {
			specs[i].Type, packs[i] = rt, true
			n++
		}
		total += int64(len(f.TensorData(&f.Tensors[i])))
	}
	tmp, err := gguf.CreateAtomic(out)
	if err != nil {
		return 0, err
	}
	defer tmp.Abort() // after Commit, a no-op
	w, err := gguf.NewWriter(tmp, meta, specs)
	if err != nil {
		return 0, err
	}
	bar := progress.New(os.Stderr, "repacking "+in, total, progress.Bytes)
	var done int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		data := f.TensorData(t)
		if !packs[i] {
			if _, err := w.Write(data); err != nil {
				return 0, err
			}
		} else if err := writeRepacked(w, t, data); err != nil {
			return 0, err
		}
		done += int64(len(data))
		bar.Set(done)
	}
	bar.Done()
	if err := w.Finish(); err != nil {
		return 0, err
	}
	return n, tmp.Commit() // syncs, renames, and drops the writer's pages (gguf.Settle)
}

// writeRepacked writes one matrix four rows at a time.
func writeRepacked(w *gguf.Writer, t *gguf.TensorInfo, data []byte) error {
	rb, err := t.Type.RowBytes(t.Dims[0])
	if err != nil {
		return err
	}
	nb := int(t.Dims[0]) / kernels.QK_K
	group := 4 * int(rb)
	buf := make([]byte, group)
	for off := 0; off < len(data); off += group {
		switch t.Type {
		case gguf.TypeQ4_K:
			kernels.RepackQ4KR4(kernels.AsQ4K(data[off:off+group]), kernels.AsQ4KR4(buf)[:nb])
		case gguf.TypeQ6_K:
			kernels.RepackQ6KR4(kernels.AsQ6K(data[off:off+group]), kernels.AsQ6KR4(buf)[:nb])
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
