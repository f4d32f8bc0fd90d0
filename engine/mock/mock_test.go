package mock

import (
	"bytes"
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
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
