package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BPE is GPT-2's byte-level BPE: text is pre-split into words (GPT-2's
// pattern), each word's bytes are mapped to printable code points, and
// the pair of adjacent pieces with the lowest merge rank is merged until
// none applies.
type BPE struct {
	v       *Vocab
	ranks   map[[2]string]int
	enc     [256]rune // byte -> printable rune
	dec     map[rune]byte
	special bool
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

func (t *BPE) Encode(text string, bos, special bool) []int32 {
	var out []int32
	if bos && t.v.AddBOS {
		out = append(out, t.v.BOS)
	}
	for _, f := range t.v.splitSpecial(text, special) {
		if f.id >= 0 {
			out = append(out, f.id)
			continue
		}
		for _, w := range preSplitGPT2(f.text) {
			out = t.encodeWord(w, out)
		}
	}
	return out
}

func (t *BPE) encodeWord(w string, out []int32) []int32 {
	var parts []string
	for _, b := range []byte(w) {
		parts = append(parts, string(t.enc[b]))
	}
	for len(parts) > 1 {
		best, bestRank := -1, int(^uint(0)>>1)
		for i := 0; i+1 < len(parts); i++ {
			if r, ok := t.ranks[[2]string{parts[i], parts[i+1]}]; ok && r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		parts[best] += parts[best+1]
		parts = append(parts[:best+1], parts[best+2:]...)
	}
	for _, p := range parts {
		if id, ok := t.v.ID(p); ok {
			out = append(out, id)
			continue
		}
		// A piece outside the vocabulary: fall back to single bytes, or unk.
		for _, r := range p {
			if id, ok := t.v.ID(string(r)); ok {
				out = append(out, id)
			} else if t.v.UNK >= 0 {
				out = append(out, t.v.UNK)
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
	case TypeControl, TypeUnused:
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
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(t.Piece(id))
	}
	return b.String()
}

// preSplitGPT2 splits text like GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// written by hand because Go's regexp has no look-ahead.
func preSplitGPT2(s string) []string {
	var out []string
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r):
			return 1
		case unicode.IsNumber(r):
			return 2
		case unicode.IsSpace(r):
			return 3
		}
		return 4
	}
	for i := 0; i < len(s); {
		rest := s[i:]
		if rest[0] == '\'' {
			matched := false
			for _, c := range []string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"} {
				if strings.HasPrefix(rest, c) {
					out = append(out, c)
					i += len(c)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		j := 0
		if rest[0] == ' ' && len(rest) > 1 {
			if r, _ := utf8.DecodeRuneInString(rest[1:]); class(r) != 3 {
				j = 1 // the optional leading space joins the word
			}
		}
		r, n := utf8.DecodeRuneInString(rest[j:])
		c := class(r)
		if c != 3 {
			k := j + n
			for k < len(rest) {
				r2, n2 := utf8.DecodeRuneInString(rest[k:])
				if class(r2) != c {
					break
				}
				k += n2
			}
			out = append(out, rest[:k])
			i += k
			continue
		}
		// A run of whitespace: keep its last character for the next word
		// unless the run ends the text (\s+(?!\S)).
		k, last := 0, 0
		for k < len(rest) {
			r2, n2 := utf8.DecodeRuneInString(rest[k:])
			if class(r2) != 3 {
				break
			}
			last = k
			k += n2
		}
		if k < len(rest) && last > 0 {
			k = last
		}
		out = append(out, rest[:k])
		i += k
	}
	return out
}
