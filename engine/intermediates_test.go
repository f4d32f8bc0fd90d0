package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
	"asdsl-bench/kernels/llamaorder"
)

// llamaTensor is one record of intermediates/<stem>.p64.bin.
type llamaTensor struct {
	name string
	ne   [4]int64
	data []float32
}

func readIntermediates(t *testing.T, path string) []llamaTensor {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []llamaTensor
	r := bytes.NewReader(raw)
	for r.Len() > 0 {
		var name [64]byte
		var typ int32
		var ne [4]int64
		binary.Read(r, binary.LittleEndian, &name)
		binary.Read(r, binary.LittleEndian, &typ)
		binary.Read(r, binary.LittleEndian, &ne)
		n := ne[0] * ne[1] * ne[2] * ne[3]
		data := make([]float32, n)
		if err := binary.Read(r, binary.LittleEndian, data); err != nil {
			t.Fatal(err)
		}
		out = append(out, llamaTensor{name: strings.TrimRight(string(name[:]), "\x00"), ne: ne, data: data})
	}
	return out
}

// TestIntermediatesAgainstLlamaCpp walks the forward pass op by op next
// to the tensors llama.cpp computed for the same p64 prompt and reports,
// per tensor, how far ours is: the first op that differs is where a
// logit difference comes from. It asserts nothing beyond the shapes: the
// logits' bound lives in TestGoldenLlamaCpp.
func TestIntermediatesAgainstLlamaCpp(t *testing.T) {
	dir := testutil.SharedOnly(t, "llama.cpp's intermediate tensors")
	for _, stem := range []string{"llama-Q4_K_M", "phi3-Q4_K_M"} {
		t.Run(stem, func(t *testing.T) {
			ref := map[string][]llamaTensor{}
			for _, x := range readIntermediates(t, filepath.Join(dir, "fixtures", "llamacpp-golden", "intermediates", stem+".p64.bin")) {
				ref[x.name] = append(ref[x.name], x)
			}
			m, err := Load(testutil.Golden(t, stem+".gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			prompt, _ := readGreedy(t, testutil.Golden(t, stem+".p64.greedy.txt"))
			s, err := m.NewSession(SessionOptions{Context: 64, Features: Features{NoFlash: true}, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// Our name -> llama.cpp's name and which occurrence.
			alias := map[string]struct {
				name string
				nth  int
			}{}
			for l := 0; l < m.Config.NLayer; l++ {
				for ours, theirs := range map[string]string{"attn_norm": "attn_norm", "kqv_out": "kqv_out", "attn_out": "attn_out",
					"ffn_inp": "ffn_inp", "ffn_norm": "ffn_norm", "ffn_out": "ffn_out", "l_out": "l_out",
					"ffn_gate": "ffn_gate", "ffn_up": "ffn_up", "ffn_swiglu": "ffn_swiglu",
					"Qcur": "Qcur", "Kcur": "Kcur", "Vcur": "Vcur"} {
					alias[fmt.Sprintf("%s-%d", ours, l)] = struct {
						name string
						nth  int
					}{fmt.Sprintf("%s-%d", theirs, l), 0}
				}
				alias[fmt.Sprintf("Qcur-rope-%d", l)] = struct {
					name string
					nth  int
				}{fmt.Sprintf("Qcur-%d", l), 2}
				alias[fmt.Sprintf("Kcur-rope-%d", l)] = struct {
					name string
					nth  int
				}{fmt.Sprintf("Kcur-%d", l), 2}
			}
			alias["result_norm"] = struct {
				name string
				nth  int
			}{"result_norm", 0}
			s.trace = func(name string, data []float32) {
				a, ok := alias[name]
				if !ok {
					return
				}
				xs := ref[a.name]
				if a.nth >= len(xs) {
					t.Logf("%-14s no llama.cpp tensor %s #%d", name, a.name, a.nth)
					return
				}
				want := xs[a.nth].data
				if len(want) != len(data) {
					t.Logf("%-14s size %d, llama.cpp's %s has %d", name, len(data), a.name, len(want))
					return
				}
				var maxAbs, maxRef, sq, sqRef float64
				for i := range data {
					d := math.Abs(float64(data[i] - want[i]))
					maxAbs = math.Max(maxAbs, d)
					maxRef = math.Max(maxRef, math.Abs(float64(want[i])))
					sq += d * d
					sqRef += float64(want[i]) * float64(want[i])
				}
				t.Logf("%-14s max |diff| %.3g (max |x| %.3g), rms rel %.3g", name, maxAbs, maxRef, math.Sqrt(sq/sqRef))
			}
			if _, err := s.Eval(prompt, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Where llama-Q4_K_M's 2.8e-4 mean KL comes from. Fed llama.cpp's own
// input (attn_norm-0, so nothing upstream differs), the rounding above
// reproduces llama.cpp's layer-0 Q4_K projections bit for bit, while our
// kernels' single rounding per super-block agrees on about half the
// values and is one float step away on the rest. Those 1e-7 differences
// flip a few Q8_K roundings of layer 1's activations, which then differ
// by 2e-4 (TestIntermediatesAgainstLlamaCpp shows the jump at Qcur-1).
func TestQ4KBatchRoundingOfLlamaCpp(t *testing.T) {
	dir := testutil.SharedOnly(t, "llama.cpp's intermediate tensors")
	ref := map[string][]llamaTensor{}
	for _, x := range readIntermediates(t, filepath.Join(dir, "fixtures", "llamacpp-golden", "intermediates", "llama-Q4_K_M.p64.bin")) {
		ref[x.name] = append(ref[x.name], x)
	}
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l := &m.layers[0]
	for _, c := range []struct {
		name string
		w    *Matrix
		in   string
	}{
		{"Qcur-0", l.qkv[0], "attn_norm-0"},
		{"Kcur-0", l.qkv[1], "attn_norm-0"},
		{"ffn_gate-0", l.gateUp[0], "ffn_norm-0"},
		{"ffn_up-0", l.gateUp[1], "ffn_norm-0"},
	} {
		if c.w.Type != gguf.TypeQ4_K {
			t.Fatalf("%s: weights are %v, want Q4_K", c.name, c.w.Type)
		}
		in, want := ref[c.in][0].data, ref[c.name][0].data
		nb := c.w.Cols / kernels.QK_K
		a := make([]kernels.BlockQ8K, nb)
		theirs, ours, n := 0, 0, 0
		for tok := 0; tok*c.w.Cols < len(in); tok++ {
			kernels.QuantizeRowQ8K(in[tok*c.w.Cols:(tok+1)*c.w.Cols], a)
			for r := 0; r < c.w.Rows; r++ {
				row := kernels.AsQ4K(c.w.Row(r))
				x := want[tok*c.w.Rows+r]
				if llamaorder.DotQ4KQ8K(row, a) == x {
					theirs++
				}
				if kernels.DotQ4KQ8K(row, a) == x {
					ours++
				}
				n++
			}
		}
		t.Logf("%-10s llama.cpp's rounding: %d/%d values identical; ours: %d/%d", c.name, theirs, n, ours, n)
		if theirs != n {
			t.Errorf("%s: the emulated rounding reproduces %d of %d values: the explanation above is wrong", c.name, theirs, n)
		}
	}
}
