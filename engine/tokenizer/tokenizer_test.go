package tokenizer

import (
	"fmt"
	"reflect"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/testutil"
)

// spmVocab: <unk> <s> </s>, 256 byte tokens, then scored pieces.
func spmVocab(pieces map[string]float32) *Vocab {
	v := &Vocab{BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddSpacePrefix: true}
	v.Tokens = []string{"<unk>", "<s>", "</s>"}
	v.Types = []int32{TypeUnknown, TypeControl, TypeControl}
	v.Scores = []float32{0, 0, 0}
	for b := 0; b < 256; b++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("<0x%02X>", b))
		v.Types = append(v.Types, TypeByte)
		v.Scores = append(v.Scores, 0)
	}
	for _, p := range []string{"▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "he", "ll", "llo", "hello", "▁hello", "▁w", "or", "ld", "orld", "▁world"} {
		v.Tokens = append(v.Tokens, p)
		v.Types = append(v.Types, TypeNormal)
		v.Scores = append(v.Scores, pieces[p])
	}
	v.index()
	return v
}

func TestSPMMergesByScore(t *testing.T) {
	v := spmVocab(map[string]float32{"▁hello": 10, "hello": 5, "llo": 4, "ll": 3, "he": 2, "▁h": 1, "▁world": 9, "orld": 4, "or": 3, "▁w": 1})
	s := NewSPM(v)
	ids := s.Encode("hello world", true, false)
	var got []string
	for _, id := range ids {
		got = append(got, v.Tokens[id])
	}
	want := []string{"<s>", "▁hello", "▁world"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	// With the BOS in front, llama_detokenize keeps the dummy space.
	if d := s.Decode(ids); d != " hello world" {
		t.Fatalf("decode %q", d)
	}
	if d := s.Decode(ids[1:]); d != "hello world" {
		t.Fatalf("decode %q", d)
	}
}

func TestSPMLowScoresChangeTheSplit(t *testing.T) {
	// With "▁h" scored above "he", the merge order yields ▁h + e... pieces.
	v := spmVocab(map[string]float32{"▁h": 10, "he": 1, "ll": 5, "llo": 6})
	s := NewSPM(v)
	var got []string
	for _, id := range s.Encode("hello", false, false) {
		got = append(got, v.Tokens[id])
	}
	want := []string{"▁h", "e", "llo"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestSPMByteFallbackRoundTrip(t *testing.T) {
	v := spmVocab(nil)
	s := NewSPM(v)
	text := "hé 日本"
	ids := s.Encode(text, false, false)
	for _, id := range ids {
		if id == v.UNK {
			t.Fatal("unk produced despite byte tokens")
		}
	}
	if d := s.Decode(ids); d != text {
		t.Fatalf("round trip %q -> %q", text, d)
	}
}

func TestSPMSpecialTokens(t *testing.T) {
	v := spmVocab(nil)
	s := NewSPM(v)
	ids := s.Encode("he</s>", false, true)
	if ids[len(ids)-1] != 2 {
		t.Fatalf("</s> not parsed as special: %v", ids)
	}
	ids = s.Encode("he</s>", false, false)
	if ids[len(ids)-1] == 2 {
		t.Fatal("</s> parsed as special without the flag")
	}
}

func bpeFixture(t *testing.T) *BPE {
	v := &Vocab{BOS: -1, EOS: 0, UNK: -1}
	v.Tokens = []string{"<|endoftext|>"}
	v.Types = []int32{TypeControl}
	b, _ := NewBPE(&Vocab{}, nil)
	for c := 0; c < 256; c++ {
		v.Tokens = append(v.Tokens, string(b.enc[c]))
		v.Types = append(v.Types, TypeNormal)
	}
	merges := []string{"Ġ t", "h e", "Ġt he", "l o", "lo w", "e r", "Ġ low", "Ġlow er"}
	for _, m := range []string{"Ġt", "he", "Ġthe", "lo", "low", "er", "Ġlow", "Ġlower"} {
		v.Tokens = append(v.Tokens, m)
		v.Types = append(v.Types, TypeNormal)
	}
	v.index()
	tok, err := NewBPE(v, merges)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBPEMergesByRank(t *testing.T) {
	tok := bpeFixture(t)
	ids := tok.Encode("the lower", false, false)
	var got []string
	for _, id := range ids {
		got = append(got, tok.v.Tokens[id])
	}
	want := []string{"t", "he", "Ġlower"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	for _, s := range []string{"the lower", "naïve  text\n\nwith 123 numbers, it's ok!  ", "日本語"} {
		if d := tok.Decode(tok.Encode(s, false, false)); d != s {
			t.Errorf("round trip %q -> %q", s, d)
		}
	}
	if ids := tok.Encode("a<|endoftext|>", false, true); ids[len(ids)-1] != 0 {
		t.Errorf("special token not matched: %v", ids)
	}
}

func TestGPT2PreSplit(t *testing.T) {
	got := preTokenizers["gpt-2"].words("Hello world's  end 42x!!\n\nok  ")
	want := []string{"Hello", " world", "'s", " ", " end", " 42", "x", "!!", "\n", "\n", "ok", "  "}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestFromFixtureGGUF(t *testing.T) {
	f, err := gguf.Open(testutil.Golden(t, "llama-Q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := FromGGUF(&f.Meta)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("hi there", true, false)
	if ids[0] != 1 {
		t.Fatalf("BOS missing: %v", ids)
	}
	// The fixture vocabulary has no "▁" piece, so spaces travel as byte
	// tokens and come back as the raw marker, as in llama.cpp.
	if d := tok.Decode(ids); d != "▁hi▁there" {
		t.Fatalf("decode %q", d)
	}
	for _, id := range ids {
		if id == 0 {
			t.Fatal("unknown token produced")
		}
	}
}
