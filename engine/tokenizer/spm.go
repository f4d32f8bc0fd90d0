package tokenizer

import (
	"fmt"
	"slices"
	"strings"
)

// SPM is the SentencePiece-style tokenizer of llama models: text with
// spaces written as "▁" is split into characters, and adjacent pieces are
// merged greedily, highest vocabulary score first. Pieces left outside the
// vocabulary fall back to byte tokens <0xXX>.
type SPM struct {
	v         *Vocab
	byteToken [256]int32
	// wordsApart: no piece of the vocabulary holds a "▁" right after
	// another character than "▁", so no merge can cross the start of a
	// word (a "▁" after a non-"▁"), and each word merges on its own into
	// the same pieces as in the whole text. True of Llama 2's vocabulary.
	wordsApart bool
	cache      wordCache
}

const spaceMarker = "▁"

// NewSPM builds the tokenizer over a vocabulary.
func NewSPM(v *Vocab) *SPM {
	if v.byText == nil {
		v.index()
	}
	s := &SPM{v: v}
	for b := 0; b < 256; b++ {
		id, ok := v.ID(fmt.Sprintf("<0x%02X>", b))
		if !ok {
			id = -1
		}
		s.byteToken[b] = id
	}
	// A piece joins a character to a following "▁" exactly when a "▁"
	// is left after its leading run of them.
	s.wordsApart = !slices.ContainsFunc(v.Tokens, func(tok string) bool {
		return strings.Contains(strings.TrimLeft(tok, spaceMarker), spaceMarker)
	})
	return s
}

func (s *SPM) Vocab() *Vocab { return s.v }

func (s *SPM) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	var out []int32
	// The dummy space goes before text that opens the input or follows a
	// special token, as in llama.cpp.
	prevSpecial := true
	if addSpecial && s.v.AddBOS {
		out = append(out, s.v.BOS)
	}
	for _, f := range s.v.splitSpecial(text, parseSpecial) {
		if f.id >= 0 {
			out = append(out, f.id)
			prevSpecial = true
			continue
		}
		t := f.text
		if s.v.AddSpacePrefix && prevSpecial {
			t = " " + t
		}
		prevSpecial = false
		out = s.encodeFragment(strings.ReplaceAll(t, " ", spaceMarker), out)
	}
	if addSpecial && s.v.AddEOS {
		out = append(out, s.v.EOS)
	}
	return out
}

// encodeFragment merges the fragment's characters, the pair whose merged
// text is the highest-scored vocabulary piece first; pieces left outside
// the vocabulary become byte tokens. llama.cpp merges a fragment as one
// sequence; where the vocabulary allows (wordsApart), its words go one
// at a time, with the same result: a whole file as one sequence kept a
// heap of a million pairs, out of cache, and words repeat (wordCache).
func (s *SPM) encodeFragment(text string, out []int32) []int32 {
	if !s.wordsApart {
		return s.encodeWord(text, out)
	}
	start := 0
	for i := 1; i < len(text); {
		j := strings.Index(text[i:], spaceMarker)
		if j < 0 {
			break
		}
		i += j
		if !strings.HasSuffix(text[:i], spaceMarker) {
			out = s.cache.encode(text[start:i], out, s.encodeWord)
			start = i
		}
		i += len(spaceMarker)
	}
	return s.cache.encode(text[start:], out, s.encodeWord)
}

// encodeWord merges one sequence of characters.
func (s *SPM) encodeWord(text string, out []int32) []int32 {
	parts := mergeText(text, func(_, _, merged string) (float64, bool) {
		id, ok := s.v.ID(merged)
		if !ok {
			return 0, false
		}
		if s.v.Scores == nil {
			return 0, true
		}
		return -float64(s.v.Scores[id]), true
	})
	for _, sym := range parts {
		if id, ok := s.v.ID(sym); ok {
			out = append(out, id)
			continue
		}
		for _, b := range []byte(sym) {
			if id := s.byteToken[b]; id >= 0 {
				out = append(out, id)
			} else if s.v.UNK >= 0 {
				out = append(out, s.v.UNK)
			}
		}
	}
	return out
}

// Piece returns the text of one token: "▁" becomes a space, byte tokens
// their byte, user-defined tokens their text, control and unknown tokens
// nothing (llama_token_to_piece without special).
func (s *SPM) Piece(id int32) string {
	if id < 0 || int(id) >= len(s.v.Tokens) {
		return ""
	}
	switch s.v.typ(id) {
	case TypeControl, TypeUnknown, TypeUnused:
		return ""
	case TypeUserDefined:
		return s.v.Tokens[id]
	case TypeByte:
		var b byte
		if _, err := fmt.Sscanf(s.v.Tokens[id], "<0x%02X>", &b); err == nil {
			return string([]byte{b})
		}
	}
	return strings.ReplaceAll(s.v.Tokens[id], spaceMarker, " ")
}

// Decode joins pieces; without a leading BOS, the first piece's dummy
// space goes (llama_detokenize).
func (s *SPM) Decode(ids []int32) string {
	return detokenize(s.v, ids, s.Piece, false)
}
