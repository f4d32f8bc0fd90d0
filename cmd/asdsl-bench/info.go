package main

import (
	"fmt"
	"sort"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
)

func runInfo(args []string) error {
	fs := newFlags("info", "info [--meta] MODEL.gguf")
	meta := fs.Bool("meta", false, "print every metadata key")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one MODEL argument")
	}
	m, err := engine.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	defer m.Close()
	c := m.Config
	f := m.File
	fmt.Printf("file:          %s (GGUF v%d, %.2f MiB)\n", m.Path, f.Version, float64(f.Size())/(1<<20))
	fmt.Printf("architecture:  %s\n", c.Arch)
	fmt.Printf("layers:        %d\n", c.NLayer)
	fmt.Printf("embedding:     %d   ffn: %d   vocab: %d   context: %d\n", c.NEmbd, c.NFF, c.NVocab, c.NCtx)
	fmt.Printf("heads:         %d (kv %d, head dim %d)   rope: %d dims, base %g, %s\n",
		c.NHead, c.NHeadKV, c.HeadDim, c.RopeDim, c.RopeBase, map[bool]string{true: "neox", false: "normal"}[c.RopeNeox])
	var params uint64
	byType := map[gguf.GGMLType][2]uint64{}
	for _, t := range f.Tensors {
		params += t.Elements()
		v := byType[t.Type]
		byType[t.Type] = [2]uint64{v[0] + 1, v[1] + t.Size}
	}
	fmt.Printf("parameters:    %.3f M\n", float64(params)/1e6)
	fmt.Printf("decode reads:  %.2f MiB of weights per token\n", float64(m.WeightBytes())/(1<<20))
	var types []gguf.GGMLType
	for t := range byType {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	fmt.Printf("tensor types:\n")
	for _, t := range types {
		fmt.Printf("  %-5s %4d tensors  %10.2f MiB\n", t, byType[t][0], float64(byType[t][1])/(1<<20))
	}
	if *meta {
		fmt.Printf("metadata:\n")
		for _, kv := range f.Meta.KVs {
			fmt.Printf("  %-45s %s\n", kv.Key, kv.Value.Format())
		}
		fmt.Printf("tensors:\n")
		for _, t := range f.Tensors {
			fmt.Printf("  %-32s %-5s %v\n", t.Name, t.Type, t.Dims)
		}
	}
	return nil
}
