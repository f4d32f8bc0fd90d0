package tokenizer

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	fuzzOnce  sync.Once
	fuzzToks  []Tokenizer
	fuzzNames []string
)

// FuzzEncode: any bytes tokenize without a panic, and on every fixture
// vocabulary the text comes back from its ids (valid UTF-8; the
// SentencePiece vocabulary writes spaces as U+2581, so a literal U+2581
// comes back as a space there, as in llama.cpp).
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "  two\t\ttabs\r\n\n", "it's 12345 — 日本語 🇫🇷 👩‍👩‍👧", "<s></s><|endoftext|><think>", "\xff\xfe"} {
		f.Add(s)
	}
	fuzzOnce.Do(func() {
		for _, v := range parityVocabs {
			fuzzToks = append(fuzzToks, openVocab(f, v))
			fuzzNames = append(fuzzNames, v)
		}
	})
	f.Fuzz(func(t *testing.T, text string) {
		for i, tok := range fuzzToks {
			ids := tok.Encode(text, true, true)
			for _, id := range ids {
				if id < 0 || int(id) >= len(tok.Vocab().Tokens) {
					t.Fatalf("%s: id %d outside the vocabulary", fuzzNames[i], id)
				}
			}
			if !utf8.ValidString(text) {
				continue
			}
			if _, spm := tok.(*SPM); spm && strings.Contains(text, spaceMarker) {
				continue
			}
			// Without the tokens a vocabulary adds, and without the
			// cosmetic space clean-up, decoding is the inverse.
			ids = tok.Encode(text, false, false)
			if got := detokenize(tok.Vocab(), ids, tok.Piece, false); got != text {
				t.Fatalf("%s: %q came back as %q (ids %v)", fuzzNames[i], text, got, ids)
			}
		}
	})
}
