package mock

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/quant"
	"asdsl-bench/engine/tokenizer"
)

func TestMockLoadsRunsAndIsDeterministic(t *testing.T) {
	for _, shape := range []string{"tiny", "tiny-phi3"} {
		s, _ := Lookup(shape)
		for _, typ := range []gguf.GGMLType{gguf.TypeF32, gguf.TypeF16} {
			var a, b bytes.Buffer
			if err := Write(&a, Options{Shape: s, Type: typ, Seed: 3}); err != nil {
				t.Fatal(err)
			}
			Write(&b, Options{Shape: s, Type: typ, Seed: 3})
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("same seed, different files")
			}
			var c bytes.Buffer
			Write(&c, Options{Shape: s, Type: typ, Seed: 4})
			if bytes.Equal(a.Bytes(), c.Bytes()) {
				t.Fatal("different seeds, same file")
			}
			f, err := gguf.Parse(a.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			m, err := engine.FromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if m.Config.Arch != s.Arch || m.Config.NVocab != s.Vocab {
				t.Fatalf("config %+v", m.Config)
			}
			tok, err := tokenizer.FromGGUF(&f.Meta)
			if err != nil {
				t.Fatal(err)
			}
			sess, _ := m.NewSession(engine.SessionOptions{Context: 64})
			ids := tok.Encode("Hello, world", true, false)
			lg, err := sess.Eval(ids, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(lg) != s.Vocab {
				t.Fatal("logits size")
			}
		}
	}
}

func TestQuantizedMock(t *testing.T) {
	s, _ := Lookup("tiny")
	var a, b bytes.Buffer
	o := Options{Shape: s, Type: gguf.TypeF32, Quant: quant.FileQ4_KM, Seed: 9}
	if err := Write(&a, o); err != nil {
		t.Fatal(err)
	}
	Write(&b, o)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different quantized files")
	}
	f, err := gguf.Parse(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// The tiny shape is the fixtures' shape: the same mix as llama-quantize.
	want := map[string]gguf.GGMLType{
		"output.weight": gguf.TypeQ6_K, "token_embd.weight": gguf.TypeQ4_K, "blk.0.attn_v.weight": gguf.TypeQ4_K,
		"blk.1.attn_v.weight": gguf.TypeQ6_K, "blk.1.ffn_down.weight": gguf.TypeQ6_K, "blk.1.ffn_up.weight": gguf.TypeQ4_K,
		"output_norm.weight": gguf.TypeF32,
	}
	for name, typ := range want {
		ti, ok := f.Tensor(name)
		if !ok || ti.Type != typ {
			t.Errorf("%s: %v, want %s", name, ti, typ)
		}
	}
	if ft, _ := f.Meta.Uint("general.file_type"); ft != uint64(quant.FileQ4_KM) {
		t.Errorf("file_type %d", ft)
	}
	m, err := engine.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := m.NewSession(engine.SessionOptions{Context: 16})
	lg, err := sess.Eval([]int32{1, 50, 60, 70}, true)
	if err != nil {
		t.Fatal(err)
	}
	// Random blocks from quantized N(0, 1/fan_in) pools: activations stay
	// in a sane range, so logits are finite and not all equal.
	var lo, hi float32
	for _, v := range lg {
		if v != v {
			t.Fatal("NaN logit")
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo < 1 || hi-lo > 1e3 {
		t.Errorf("logit range %v..%v looks wrong", lo, hi)
	}
}

func TestParamsOfRealShapes(t *testing.T) {
	// Sanity: the shapes land near their advertised sizes.
	for name, want := range map[string]float64{"tinyllama-1.1b": 1.1e9, "llama2-7b": 6.7e9, "phi4-14b": 14.7e9} {
		s, _ := Lookup(name)
		got := float64(s.Params())
		if got < 0.93*want || got > 1.07*want {
			t.Errorf("%s: %.3g params, want about %.3g", name, got, want)
		}
	}
}

// A cached mock that no longer matches its checksum file (truncated,
// or changed in place) is rebuilt, with a note; an intact one is reused
// without rewriting it.
func TestCachedRebuildsDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ASDSL_CACHE", dir)
	var notes []string
	o := Options{Shape: Shapes["tiny"], Type: gguf.TypeF32, Seed: 3, Log: func(s string) { notes = append(notes, s) }}
	path, err := Cached(o)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	st0, _ := os.Stat(path)
	if _, err := Cached(o); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); !st.ModTime().Equal(st0.ModTime()) || len(notes) != 0 {
		t.Fatalf("an intact cache was rewritten (notes %q)", notes)
	}
	damage := map[string]func(){
		"truncated": func() { os.Truncate(path, int64(len(good)/2)) },
		"bit flip": func() {
			b := append([]byte(nil), good...)
			b[len(b)-100] ^= 1
			os.WriteFile(path, b, 0o644)
		},
	}
	for name, f := range damage {
		notes = nil
		f()
		if _, err := Cached(o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
			t.Fatalf("%s: not rebuilt", name)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "rebuilding") {
			t.Fatalf("%s: notes %q", name, notes)
		}
	}
}

// A killed writer's temporary file is removed by the next write of the
// same path; a running writer's is not.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	dead := filepath.Join(dir, ".m.gguf.tmp-999999999-123")
	alive := filepath.Join(dir, fmt.Sprintf(".m.gguf.tmp-%d-456", os.Getppid()))
	os.WriteFile(dead, []byte("partial"), 0o644)
	os.WriteFile(alive, []byte("partial"), 0o644)
	if err := WriteFile(path, Options{Shape: Shapes["tiny"], Type: gguf.TypeF32, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead writer's temporary file survived: %v", err)
	}
	if _, err := os.Stat(alive); err != nil {
		t.Errorf("a running writer's temporary file was removed: %v", err)
	}
}
