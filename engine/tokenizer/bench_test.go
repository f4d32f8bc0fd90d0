package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/internal/shared"
)

// BenchmarkEncodeWikiText tokenizes WikiText-2's test file (1.3 MB) as
// one text per vocabulary and reports MB/s: one long input, so a path
// that is quadratic in the input's length shows. Without shared/ it uses
// the 300 lines in testdata. Each pass starts from a fresh tokenizer.
func BenchmarkEncodeWikiText(b *testing.B) {
	text := ""
	if d, err := shared.Dir(); err == nil {
		raw, err := os.ReadFile(filepath.Join(d, "data", "wikitext-2", "test.txt"))
		if err != nil {
			b.Fatal(err)
		}
		text = string(raw)
	} else {
		var lines []string
		for _, c := range readCases(b, filepath.Join("testdata", "tokens-llama3-bpe-wikitext2-test-300.jsonl.gz")) {
			lines = append(lines, c.Text)
		}
		text = strings.Join(lines, "\n")
		b.Logf("WikiText-2 test file not found (%v): %d bytes from testdata", err, len(text))
	}
	for _, v := range parityVocabs {
		b.Run(v, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for i := 0; i < b.N; i++ {
				// A fresh tokenizer each time: a BPE one keeps the ids of
				// the words it has merged, and one pass over the text is
				// what this measures.
				b.StopTimer()
				tok := openVocab(b, v)
				b.StartTimer()
				n = len(tok.Encode(text, true, false))
			}
			b.ReportMetric(float64(len(text))/float64(n), "bytes/token")
		})
	}
}
