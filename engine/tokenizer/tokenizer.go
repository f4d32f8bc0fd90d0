// Package tokenizer turns text into token ids and back using the
// vocabulary stored in a GGUF file: SentencePiece-style ("llama": scores,
// byte fallback) or GPT-2 byte-level BPE ("gpt2": merges).
package tokenizer

import (
	"fmt"
	"strings"

	"asdsl-bench/engine/gguf"
)

// Token types as stored in tokenizer.ggml.token_type.
const (
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3
	TypeUserDefined = 4
	TypeUnused      = 5
	TypeByte        = 6
)

// Vocab is the data shared by both tokenizer kinds.
type Vocab struct {
	Tokens []string
	Scores []float32
	Types  []int32
	BOS    int32 // -1 if none
	EOS    int32
	UNK    int32
	AddBOS bool
	byText map[string]int32
}

// Tokenizer encodes and decodes text.
type Tokenizer interface {
	// Encode tokenizes text; bos prepends the BOS token when the model
	// asks for one. Control-token text (e.g. "</s>") is matched only when
	// special is true.
	Encode(text string, bos, special bool) []int32
	// Piece returns the bytes a token stands for.
	Piece(id int32) string
	// Decode turns a sequence back into text.
	Decode(ids []int32) string
	Vocab() *Vocab
}

// FromGGUF builds the tokenizer a model file describes.
func FromGGUF(m *gguf.Metadata) (Tokenizer, error) {
	model, err := m.String("tokenizer.ggml.model")
	if err != nil {
		return nil, err
	}
	v := &Vocab{BOS: -1, EOS: -1, UNK: -1}
	if v.Tokens, err = m.Strings("tokenizer.ggml.tokens"); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("tokenizer has an empty vocabulary")
	}
	if _, ok := m.Get("tokenizer.ggml.scores"); ok {
		if v.Scores, err = m.Float32s("tokenizer.ggml.scores"); err != nil {
			return nil, err
		}
		if len(v.Scores) != n {
			return nil, fmt.Errorf("tokenizer has %d scores for %d tokens", len(v.Scores), n)
		}
	}
	if _, ok := m.Get("tokenizer.ggml.token_type"); ok {
		if v.Types, err = m.Int32s("tokenizer.ggml.token_type"); err != nil {
			return nil, err
		}
		if len(v.Types) != n {
			return nil, fmt.Errorf("tokenizer has %d token types for %d tokens", len(v.Types), n)
		}
	}
	for key, dst := range map[string]*int32{
		"tokenizer.ggml.bos_token_id":     &v.BOS,
		"tokenizer.ggml.eos_token_id":     &v.EOS,
		"tokenizer.ggml.unknown_token_id": &v.UNK,
	} {
		if _, ok := m.Get(key); !ok {
			continue
		}
		id, err := m.Uint(key)
		if err != nil {
			return nil, err
		}
		if id >= uint64(n) {
			return nil, fmt.Errorf("%s = %d is outside the vocabulary of %d", key, id, n)
		}
		*dst = int32(id)
	}
	v.AddBOS = model == "llama" && v.BOS >= 0
	if val, ok := m.Get("tokenizer.ggml.add_bos_token"); ok {
		b, isBool := val.V.(bool)
		if !isBool {
			return nil, fmt.Errorf("tokenizer.ggml.add_bos_token is %s, want bool", val.Type)
		}
		v.AddBOS = b && v.BOS >= 0
	}
	v.index()
	switch model {
	case "llama":
		return NewSPM(v), nil
	case "gpt2":
		merges, err := m.Strings("tokenizer.ggml.merges")
		if err != nil {
			return nil, err
		}
		return NewBPE(v, merges)
	}
	return nil, fmt.Errorf("tokenizer model %q is not supported (supported: llama, gpt2)", model)
}

func (v *Vocab) index() {
	v.byText = make(map[string]int32, len(v.Tokens))
	for i, t := range v.Tokens {
		if _, dup := v.byText[t]; !dup {
			v.byText[t] = int32(i)
		}
	}
}

// ID returns the id of a token's exact text.
func (v *Vocab) ID(text string) (int32, bool) {
	id, ok := v.byText[text]
	return id, ok
}

func (v *Vocab) typ(id int32) int32 {
	if v.Types == nil {
		return TypeNormal
	}
	return v.Types[id]
}

// IsControl reports whether id is a control token (BOS, EOS, ...).
func (v *Vocab) IsControl(id int32) bool { return v.typ(id) == TypeControl }

// splitSpecial cuts text around occurrences of control and user-defined
// token texts, longest first. Pieces that are special tokens come back
// with their id; plain text has id -1.
type fragment struct {
	text string
	id   int32
}

func (v *Vocab) splitSpecial(text string, special bool) []fragment {
	if !special || v.Types == nil {
		return []fragment{{text, -1}}
	}
	var specials []int32
	for i, t := range v.Types {
		if (t == TypeControl || t == TypeUserDefined) && v.Tokens[i] != "" {
			specials = append(specials, int32(i))
		}
	}
	var out []fragment
	start := 0
	for i := 0; i < len(text); {
		best := int32(-1)
		for _, id := range specials {
			tok := v.Tokens[id]
			if strings.HasPrefix(text[i:], tok) && (best < 0 || len(tok) > len(v.Tokens[best])) {
				best = id
			}
		}
		if best < 0 {
			i++
			continue
		}
		if start < i {
			out = append(out, fragment{text[start:i], -1})
		}
		out = append(out, fragment{v.Tokens[best], best})
		i += len(v.Tokens[best])
		start = i
	}
	if start < len(text) {
		out = append(out, fragment{text[start:], -1})
	}
	return out
}
