package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// BPE is GPT-2's byte-level BPE: text is pre-split into words (GPT-2's
// pattern), each word's bytes are mapped to printable code points, and
// the pair of adjacent pieces with the lowest merge rank is merged until
// none applies.
type BPE struct {
	v     *Vocab
	ranks map[[2]string]int
	enc   [256]rune // byte -> printable rune
	dec   map[rune]byte
	pre   preTokenizer

	cache wordCache
}

// NewBPE builds the tokenizer from a vocabulary and its merges ("a b").
func NewBPE(v *Vocab, merges []string) (*BPE, error) {
	if v.byText == nil {
		v.index()
	}
	t := &BPE{v: v, ranks: make(map[[2]string]int, len(merges)), dec: map[rune]byte{}}
	for i, m := range merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("merge %d (%q) is not two pieces separated by a space", i, m)
		}
		if _, dup := t.ranks[[2]string{a, b}]; !dup {
			t.ranks[[2]string{a, b}] = i
		}
	}
	// GPT-2's byte-to-unicode table: printable Latin-1 bytes map to
	// themselves, the rest to code points from U+0100 up, in byte order.
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			t.enc[b] = rune(b)
		} else {
			t.enc[b] = rune(256 + n)
			n++
		}
		t.dec[t.enc[b]] = byte(b)
	}
	return t, nil
}

func (t *BPE) Vocab() *Vocab { return t.v }

func (t *BPE) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var out []int32
	if addSpecial && t.v.AddBOS {
		out = append(out, t.v.BOS)
	}
	pre := t.pre
	if pre.cuts == nil {
		pre = preTokenizers["gpt-2"]
	}
	for _, f := range t.v.splitSpecial(text, parseSpecial) {
		if f.id >= 0 {
			out = append(out, f.id)
			continue
		}
		for _, w := range pre.words(f.text) {
			out = t.encodeWord(w, pre.ignoreMerges, out)
		}
	}
	if addSpecial && t.v.AddEOS {
		out = append(out, t.v.EOS)
	}
	return out
}

// encodeWord maps a word's bytes to GPT-2's printable code points and
// merges adjacent pieces, lowest merge rank first (leftmost on ties),
// until no pair has a rank. A heap keeps long words (a line of
// WikiText's "= = =" runs) from costing the square of their length.
func (t *BPE) encodeWord(w string, ignoreMerges bool, out []int32) []int32 {
	return t.cache.encode(w, out, func(w string, out []int32) []int32 { return t.mergeWord(w, ignoreMerges, out) })
}

// mergeWord is encodeWord without the cache.
func (t *BPE) mergeWord(w string, ignoreMerges bool, out []int32) []int32 {
	var enc strings.Builder
	for _, b := range []byte(w) {
		enc.WriteRune(t.enc[b])
	}
	word := enc.String()
	if ignoreMerges {
		if id, ok := t.v.ID(word); ok {
			return append(out, id)
		}
	}
	parts := mergeBPE(word, t.ranks)
	for _, p := range parts {
		if id, ok := t.v.ID(p); ok {
			out = append(out, id)
			continue
		}
		// A piece outside the vocabulary: each of its bytes that is a
		// token on its own (llama.cpp's fallback), the rest dropped.
		for i := 0; i < len(p); i++ {
			if id, ok := t.v.ID(p[i : i+1]); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

func (t *BPE) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.v.Tokens) {
		return ""
	}
	switch t.v.typ(id) {
	case TypeControl, TypeUnknown, TypeUnused:
		return ""
	case TypeUserDefined:
		return t.v.Tokens[id]
	}
	var b []byte
	for _, r := range t.v.Tokens[id] {
		if c, ok := t.dec[r]; ok {
			b = append(b, c)
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}

func (t *BPE) Decode(ids []int32) string {
	return detokenize(t.v, ids, t.Piece, t.pre.cleanSpaces)
}
