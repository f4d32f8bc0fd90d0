package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/shared"
)

// The vocabularies are real (Llama 2's SentencePiece, Llama 3's and
// Qwen3's byte-level BPE, written as llama.cpp's converters write them)
// and the ids are llama.cpp's (build d32676d77, add_special=true,
// parse_special=false); see ../shared/fixtures/real/README.md.
// testdata/ holds the vocabularies, the edge cases and the first 300
// WikiText-2 lines; the full 1500-line sets are read from shared/ when
// it is there.
var parityVocabs = []string{"llama2-spm", "llama3-bpe", "qwen3-bpe"}

type parityCase struct {
	Text  string  `json:"text"`
	IDs   []int32 `json:"ids"`
	Detok string  `json:"detok"`
}

// openVocab loads testdata/vocab-NAME.gguf.gz.
func openVocab(t testing.TB, name string) Tokenizer {
	t.Helper()
	tok, err := FromGGUF(&openVocabFile(t, name).Meta)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// openVocabFile opens testdata/vocab-NAME.gguf.gz, uncompressed into a
// temporary directory.
func openVocabFile(t testing.TB, name string) *gguf.File {
	t.Helper()
	zr := openMaybeGzip(t, filepath.Join("testdata", "vocab-"+name+".gguf.gz"))
	defer zr.Close()
	path := filepath.Join(t.TempDir(), name+".gguf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func openMaybeGzip(t testing.TB, path string) io.ReadCloser {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}
}

func readCases(t testing.TB, path string) []parityCase {
	t.Helper()
	r := openMaybeGzip(t, path)
	defer r.Close()
	var cases []parityCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c parityCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

// checkParity requires every id and every detokenized string to equal
// llama.cpp's, and reports the first few differences in full.
func checkParity(t *testing.T, tok Tokenizer, set string, cases []parityCase) {
	t.Helper()
	bad := 0
	for i, c := range cases {
		ids := tok.Encode(c.Text, true, false)
		if !reflect.DeepEqual(ids, c.IDs) {
			if bad++; bad <= 5 {
				t.Errorf("%s line %d %s:\n got  %v\n want %v", set, i+1, gguf.Quote(c.Text), ids, c.IDs)
			}
			continue
		}
		if d := tok.Decode(c.IDs); d != c.Detok {
			if bad++; bad <= 5 {
				t.Errorf("%s line %d: detokenized\n got  %s\n want %s", set, i+1, gguf.Quote(d), gguf.Quote(c.Detok))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d lines differ from llama.cpp", set, bad, len(cases))
	} else {
		t.Logf("%s: %d lines identical to llama.cpp (ids and text)", set, len(cases))
	}
}

func TestParityWithLlamaCpp(t *testing.T) {
	sharedDir, sharedErr := shared.Dir()
	for _, v := range parityVocabs {
		t.Run(v, func(t *testing.T) {
			tok := openVocab(t, v)
			checkParity(t, tok, "edge", readCases(t, filepath.Join("testdata", "tokens-"+v+"-edge.jsonl")))
			if sharedErr != nil {
				checkParity(t, tok, "wikitext2[:300]", readCases(t, filepath.Join("testdata", "tokens-"+v+"-wikitext2-test-300.jsonl.gz")))
				t.Logf("full WikiText-2 set not run: %v", sharedErr)
				return
			}
			checkParity(t, tok, "wikitext2", readCases(t, filepath.Join(sharedDir, "fixtures", "real", "tokens-"+v+"-wikitext2-test.jsonl")))
		})
	}
}

// The word-splitting rule comes from tokenizer.ggml.pre: an unknown name
// is an error that names it, and each known family really changes the
// split (a Llama 3 vocabulary read with Qwen2's rule cuts digits one by
// one, with GPT-2's keeps the tab off the word).
func TestPreTokenizerFromMetadata(t *testing.T) {
	f := openVocabFile(t, "llama3-bpe")
	setPre := func(name string) {
		for i := range f.Meta.KVs {
			if f.Meta.KVs[i].Key == "tokenizer.ggml.pre" {
				f.Meta.KVs[i].Value = gguf.Value{Type: gguf.ValString, V: name}
				return
			}
		}
		t.Fatal("no tokenizer.ggml.pre key")
	}
	setPre("made-up-pre")
	if _, err := FromGGUF(&f.Meta); err == nil || !strings.Contains(err.Error(), `"made-up-pre" is not supported`) {
		t.Fatalf("unknown pre-tokenizer: got %v", err)
	}
	text := "Tabs\tand 12345"
	split := map[string]int{}
	for _, pre := range []string{"llama-bpe", "llama3", "dbrx", "qwen2", "gpt-2", "default", ""} {
		setPre(pre)
		tok, err := FromGGUF(&f.Meta)
		if err != nil {
			t.Fatalf("pre %q: %v", pre, err)
		}
		split[pre] = len(tok.Encode(text, false, false))
	}
	if split["llama3"] != split["llama-bpe"] || split["dbrx"] != split["llama-bpe"] {
		t.Errorf("llama3/dbrx/llama-bpe split alike: %v", split)
	}
	if split["qwen2"] == split["llama-bpe"] || split["gpt-2"] == split["llama-bpe"] {
		t.Errorf("qwen2 and gpt-2 rules do not change the split: %v", split)
	}
	if split[""] != split["default"] {
		t.Errorf("a missing pre key is read as default: %v", split)
	}
}
