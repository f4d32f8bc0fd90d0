package quant

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/testutil"
)

// Quantizing the fixture F32 models must reproduce llama-quantize's
// files: same tensor types (the *.types.txt lists), and — the stretch goal
// — the same bytes, header and all.
func TestQuantizeReproducesLlamaQuantizeFiles(t *testing.T) {
	for _, c := range []struct {
		arch string
		ft   FileType
		ref  string
	}{
		{"llama", FileQ4_KM, "Q4_K_M"}, {"phi3", FileQ4_KM, "Q4_K_M"},
		{"llama", FileQ8_0, "Q8_0"}, {"phi3", FileQ8_0, "Q8_0"},
	} {
		out := filepath.Join(t.TempDir(), "out.gguf")
		rep, err := File(testutil.Golden(t, c.arch+"-f32.gguf"), out, Options{Type: c.ft, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		want, err := os.ReadFile(testutil.Golden(t, c.arch+"-"+c.ref+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			// Say where, to make a regression easy to find.
			n := 0
			for n < len(got) && n < len(want) && got[n] == want[n] {
				n++
			}
			t.Errorf("%s %s: output differs from llama-quantize's at byte %d (sizes %d and %d)", c.arch, c.ref, n, len(got), len(want))
		}
		if rep.Weights == 0 || rep.OutBytes >= rep.InBytes {
			t.Errorf("report: %+v", rep)
		}
		if c.ref == "Q4_K_M" {
			raw, _ := os.ReadFile(testutil.Golden(t, c.arch+"-Q4_K_M.types.txt"))
			types := strings.ToLower(string(raw))
			for _, tr := range rep.Tensors {
				line := tr.Name + " " + strings.ToLower(tr.To.String())
				if !strings.Contains(types, line+"\n") {
					t.Errorf("%s: %q not in the fixture's type list", c.arch, line)
				}
			}
		}
	}
}

func TestMixRules(t *testing.T) {
	// A 32-layer llama: Q4_K_M gives Q6_K to attn_v/ffn_down of layers
	// 0-3, 28-31 and every third layer from 6 (use_more_bits).
	var tensors []gguf.TensorInfo
	add := func(name string, cols uint64) {
		tensors = append(tensors, gguf.TensorInfo{Name: name, Dims: []uint64{cols, 512}, Type: gguf.TypeF32})
	}
	add("token_embd.weight", 4096)
	for l := 0; l < 32; l++ {
		add(blk(l, "attn_v.weight"), 4096)
		add(blk(l, "ffn_down.weight"), 11008)
		add(blk(l, "attn_q.weight"), 4096)
	}
	add("output.weight", 4096)
	f := &gguf.File{Tensors: tensors}
	m := newMix(f, FileQ4_KM)
	six := map[int]bool{}
	for _, l := range []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31} {
		six[l] = true
	}
	for i := range tensors {
		typ, note := m.choose(&tensors[i])
		name := tensors[i].Name
		want := gguf.TypeQ4_K
		var l int
		switch {
		case name == "output.weight":
			want = gguf.TypeQ6_K
		case strings.Contains(name, "attn_v"), strings.Contains(name, "ffn_down"):
			if _, err := sscan(name, &l); err == nil && six[l] {
				want = gguf.TypeQ6_K
			}
		}
		if typ != want || note != "" {
			t.Errorf("%s: got %s (%q), want %s", name, typ, note, want)
		}
	}
	// Q4_K_S: Q5_K for the first 4 attn_v and the first eighth of ffn_down.
	m = newMix(f, FileQ4_KS)
	for i := range tensors {
		typ, _ := m.choose(&tensors[i])
		name := tensors[i].Name
		var l int
		sscan(name, &l)
		want := gguf.TypeQ4_K
		switch {
		case name == "output.weight":
			want = gguf.TypeQ6_K
		case strings.Contains(name, "attn_v") && l < 4, strings.Contains(name, "ffn_down") && l < 4:
			want = gguf.TypeQ5_K
		}
		if name == "token_embd.weight" {
			want = gguf.TypeQ4_K
		}
		if typ != want {
			t.Errorf("q4_k_s %s: got %s, want %s", name, typ, want)
		}
	}
	// Rows that are not whole super-blocks fall back, with a note.
	odd := gguf.TensorInfo{Name: "blk.0.attn_q.weight", Dims: []uint64{4000, 8}, Type: gguf.TypeF32}
	if typ, note := newMix(f, FileQ4_KM).choose(&odd); typ != gguf.TypeQ8_0 || note == "" {
		t.Errorf("fallback: %s %q", typ, note)
	}
	odd.Dims[0] = 100
	if typ, _ := newMix(f, FileQ4_KM).choose(&odd); typ != gguf.TypeF16 {
		t.Errorf("fallback to F16: %s", typ)
	}
	norm := gguf.TensorInfo{Name: "blk.0.attn_norm.weight", Dims: []uint64{4096}, Type: gguf.TypeF32}
	if typ, _ := newMix(f, FileQ4_KM).choose(&norm); typ != gguf.TypeF32 {
		t.Errorf("norm quantized to %s", typ)
	}
}

func blk(l int, s string) string { return "blk." + itoa(l) + "." + s }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func sscan(name string, l *int) (int, error) {
	var err error
	n := 0
	rest := strings.TrimPrefix(name, "blk.")
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	*l = n
	return 1, err
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	// A model with a NaN weight.
	write := func(name string, typ gguf.GGMLType, data []byte) string {
		p := filepath.Join(dir, name)
		var buf bytes.Buffer
		w, err := gguf.NewWriter(&buf, []gguf.KV{{Key: "general.architecture", Value: gguf.Str("llama")}},
			[]gguf.TensorSpec{{Name: "blk.0.attn_q.weight", Dims: []uint64{256, 2}, Type: typ}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Finish(); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, buf.Bytes(), 0o644)
		return p
	}
	f32 := make([]byte, 2*256*4)
	f32[4*300+3] = 0x7f // float bits 0x7f000000.. make it NaN below
	f32[4*300+2] = 0xc0
	nan := write("nan.gguf", gguf.TypeF32, f32)
	_, err := File(nan, filepath.Join(dir, "o.gguf"), Options{Type: FileQ4_KM})
	if err == nil || !strings.Contains(err.Error(), "blk.0.attn_q.weight") || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("NaN: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "o.gguf")); err == nil {
		t.Error("failed run left an output file")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	q := write("q.gguf", gguf.TypeQ4_K, make([]byte, 2*144))
	if _, err := File(q, filepath.Join(dir, "o.gguf"), Options{Type: FileQ8_0}); err == nil || !strings.Contains(err.Error(), "already Q4_K") {
		t.Errorf("quantized input: %v", err)
	}
	if _, err := ParseFileType("q3_k"); err == nil {
		t.Error("unknown type accepted")
	}
}
