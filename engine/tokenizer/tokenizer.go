// Package tokenizer turns text into token ids and back using the
// vocabulary stored in a GGUF file: SentencePiece-style ("llama": scores,
// byte fallback) or GPT-2 byte-level BPE ("gpt2": merges).
package tokenizer

import (
	"fmt"
	"sort"
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
	AddEOS bool
	// AddSpacePrefix: SentencePiece's dummy space before text that opens
	// the input or follows a special token (tokenizer.ggml.add_space_prefix).
	AddSpacePrefix bool
	// Pre is tokenizer.ggml.pre, the word-splitting rule of a BPE vocabulary.
	Pre    string
	byText map[string]int32
	// specials are the control, user-defined and unknown tokens, longest
	// text first: the order llama.cpp cuts them out of raw text.
	specials []int32
	// rstrip marks specials that swallow the whitespace after them
	// (Phi-3's chat tokens, as llama.cpp sets by model name).
	rstrip map[int32]bool
}

// Tokenizer encodes and decodes text.
type Tokenizer interface {
	// Encode tokenizes text as llama_tokenize does. addSpecial adds the
	// BOS (and EOS) tokens the vocabulary asks for; parseSpecial lets
	// control-token text (e.g. "</s>") become that token. User-defined
	// tokens are always matched whole, as in Hugging Face's tokenizers.
	Encode(text string, addSpecial, parseSpecial bool) []int32
	// Piece returns the bytes a token stands for.
	Piece(id int32) string
	// Decode turns a sequence back into text as llama_detokenize does
	// with remove_special: a leading BOS and trailing EOS the vocabulary
	// adds are dropped, control tokens print nothing.
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
	var pre preTokenizer
	switch model {
	case "llama":
		v.AddBOS, v.AddSpacePrefix = true, true
	case "gpt2":
		if _, ok := m.Get("tokenizer.ggml.pre"); ok {
			if v.Pre, err = m.String("tokenizer.ggml.pre"); err != nil {
				return nil, err
			}
		}
		if pre, err = lookupPre(v.Pre); err != nil {
			return nil, err
		}
		v.AddBOS = pre.addBOS
	default:
		return nil, fmt.Errorf("tokenizer model %s is not supported (supported: llama, gpt2)", gguf.Quote(model))
	}
	for key, dst := range map[string]*bool{
		"tokenizer.ggml.add_bos_token":    &v.AddBOS,
		"tokenizer.ggml.add_eos_token":    &v.AddEOS,
		"tokenizer.ggml.add_space_prefix": &v.AddSpacePrefix,
	} {
		val, ok := m.Get(key)
		if !ok {
			continue
		}
		b, isBool := val.V.(bool)
		if !isBool {
			return nil, fmt.Errorf("%s is %s, want bool", key, val.Type)
		}
		*dst = b
	}
	if v.AddBOS && v.BOS < 0 {
		return nil, fmt.Errorf("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set")
	}
	if v.AddEOS && v.EOS < 0 {
		return nil, fmt.Errorf("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set")
	}
	v.index()
	if name, err := m.String("general.name"); err == nil {
		v.markPhi3(name)
	}
	if model == "llama" {
		return NewSPM(v), nil
	}
	merges, err := m.Strings("tokenizer.ggml.merges")
	if err != nil {
		return nil, err
	}
	t, err := NewBPE(v, merges)
	if err != nil {
		return nil, err
	}
	t.pre = pre
	return t, nil
}

// markPhi3: Phi-3's chat tokens (<|user|>, <|end|>, ...) eat the
// whitespace after them; its tokenizer.json says so per token, GGUF does
// not, and llama.cpp restores it from the model's name. So do we.
func (v *Vocab) markPhi3(name string) {
	n := strings.ToLower(name)
	if !strings.Contains(n, "phi-3") && !strings.Contains(n, "phi3") {
		return
	}
	v.rstrip = map[int32]bool{}
	for _, id := range v.specials {
		v.rstrip[id] = true
	}
	if id, ok := v.ID("</s>"); ok {
		v.rstrip[id] = true
	}
	for _, t := range []string{"<unk>", "<s>", "<|endoftext|>"} {
		if id, ok := v.ID(t); ok {
			delete(v.rstrip, id)
		}
	}
}

func (v *Vocab) index() {
	v.byText = make(map[string]int32, len(v.Tokens))
	for i, t := range v.Tokens {
		if _, dup := v.byText[t]; !dup {
			v.byText[t] = int32(i)
		}
	}
	v.specials = v.specials[:0]
	for i := range v.Tokens {
		switch v.typ(int32(i)) {
		case TypeControl, TypeUserDefined, TypeUnknown:
			if v.Tokens[i] != "" {
				v.specials = append(v.specials, int32(i))
			}
		}
	}
	sort.SliceStable(v.specials, func(a, b int) bool {
		return len(v.Tokens[v.specials[a]]) > len(v.Tokens[v.specials[b]])
	})
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

// fragment is raw text (id -1) or a special token cut out of it.
type fragment struct {
	text string
	id   int32
}

// splitSpecial cuts special-token text out of raw text the way llama.cpp
// does: token by token, longest first, every occurrence in every piece
// of raw text left so far. Control and unknown tokens are cut only when
// parseSpecial is set; user-defined ones always.
func (v *Vocab) splitSpecial(text string, parseSpecial bool) []fragment {
	frags := []fragment{{text, -1}}
	if text == "" {
		return nil
	}
	for _, id := range v.specials {
		if !parseSpecial && v.typ(id) != TypeUserDefined {
			continue
		}
		tok := v.Tokens[id]
		var next []fragment
		for _, f := range frags {
			if f.id >= 0 || !strings.Contains(f.text, tok) {
				next = append(next, f)
				continue
			}
			rest := f.text
			for {
				i := strings.Index(rest, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{rest[:i], -1})
				}
				next = append(next, fragment{tok, id})
				rest = rest[i+len(tok):]
				if v.rstrip[id] {
					rest = strings.TrimLeft(rest, " \t\n\v\f\r")
				}
			}
			if rest != "" {
				next = append(next, fragment{rest, -1})
			}
		}
		frags = next
	}
	return frags
}

// detokenize is llama_detokenize with remove_special set: the BOS and
// EOS the vocabulary adds itself are dropped; with a space prefix and no
// BOS, the first piece loses one leading space (the dummy prefix).
func detokenize(v *Vocab, ids []int32, piece func(int32) string, cleanSpaces bool) string {
	removeSpace := v.AddSpacePrefix
	if v.AddBOS && len(ids) > 0 && ids[0] == v.BOS {
		removeSpace = false
		ids = ids[1:]
	}
	if v.AddEOS && len(ids) > 0 && ids[len(ids)-1] == v.EOS {
		ids = ids[:len(ids)-1]
	}
	var b strings.Builder
	for i, id := range ids {
		p := piece(id)
		if i == 0 && removeSpace {
			p = strings.TrimPrefix(p, " ")
		}
		b.WriteString(p)
	}
	if !cleanSpaces {
		return b.String()
	}
	return cleanUpSpaces(b.String())
}

// cleanUpSpaces is Hugging Face's clean_up_tokenization_spaces as
// llama.cpp applies it: no space before . , ! ?, none around a lone
// apostrophe, none before 's 'm 're 've.
func cleanUpSpaces(s string) string {
	if s == "" {
		return s
	}
	// Three passes over bytes, each reading the previous one's output.
	t := []byte(s)
	out := t[:1]
	for i := 1; i < len(t); i++ {
		if t[i-1] == ' ' && (t[i] == '?' || t[i] == '!' || t[i] == '.' || t[i] == ',') {
			out = out[:len(out)-1]
		}
		out = append(out, t[i])
	}
	t = append([]byte(nil), out...)
	out = t[:1]
	for i := 1; i < len(t); i++ {
		x := t[i]
		if x == '\'' && i+1 < len(t) && t[i-1] == ' ' && t[i+1] == ' ' {
			out = out[:len(out)-1]
			out = append(out, x)
			i++
			t[i] = 0 // the space after it goes, and is no longer a space
			continue
		}
		out = append(out, x)
	}
	t = append([]byte(nil), out...)
	out = t[:1]
	for i := 1; i < len(t); i++ {
		if t[i-1] == ' ' && t[i] == '\'' && i+1 < len(t) {
			x1 := t[i+1]
			switch {
			case x1 == 's' || x1 == 'm':
				out = out[:len(out)-1]
			case i+2 < len(t) && ((x1 == 'r' && t[i+2] == 'e') || (x1 == 'v' && t[i+2] == 'e')):
				out = out[:len(out)-1]
			}
		}
		out = append(out, t[i])
	}
	return string(out)
}
