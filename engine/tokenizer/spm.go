package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SPM is the SentencePiece-style tokenizer of llama models: text with
// spaces written as "▁" is split into characters, and adjacent pieces are
// merged greedily, highest vocabulary score first. Pieces left outside the
// vocabulary fall back to byte tokens <0xXX>.
type SPM struct {
	v         *Vocab
	byteToken [256]int32
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
	return s
}

func (s *SPM) Vocab() *Vocab { return s.v }

func (s *SPM) Encode(text string, bos, special bool) []int32 {
	var out []int32
	if bos && s.v.AddBOS {
		out = append(out, s.v.BOS)
	}
	first := true
	for _, f := range s.v.splitSpecial(text, special) {
		if f.id >= 0 {
			out = append(out, f.id)
			first = false
			continue
		}
		t := strings.ReplaceAll(f.text, " ", spaceMarker)
		if first {
			t = spaceMarker + t // the SentencePiece dummy prefix
			first = false
		}
		out = s.encodeFragment(t, out)
	}
	return out
}

type spmSymbol struct {
	text       string
	prev, next int
}

type spmPair struct {
	left, right int
	score       float32
	size        int // combined text length when queued, to skip stale pairs
}

type pairQueue []spmPair

func (q pairQueue) Len() int { return len(q) }
func (q pairQueue) Less(i, j int) bool {
	if q[i].score != q[j].score {
		return q[i].score > q[j].score
	}
	return q[i].left < q[j].left
}
func (q pairQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pairQueue) Push(x any)   { *q = append(*q, x.(spmPair)) }
func (q *pairQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (s *SPM) encodeFragment(text string, out []int32) []int32 {
	var syms []spmSymbol
	for i := 0; i < len(text); {
		_, n := utf8.DecodeRuneInString(text[i:])
		syms = append(syms, spmSymbol{text: text[i : i+n], prev: len(syms) - 1, next: len(syms) + 1})
		i += n
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	q := &pairQueue{}
	try := func(l, r int) {
		if l < 0 || r < 0 {
			return
		}
		t := syms[l].text + syms[r].text
		if id, ok := s.v.ID(t); ok {
			var sc float32
			if s.v.Scores != nil {
				sc = s.v.Scores[id]
			}
			heap.Push(q, spmPair{left: l, right: r, score: sc, size: len(t)})
		}
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.Len() > 0 {
		p := heap.Pop(q).(spmPair)
		l, r := &syms[p.left], &syms[p.right]
		if l.text == "" || r.text == "" || len(l.text)+len(r.text) != p.size || l.next != p.right {
			continue // one side already merged elsewhere
		}
		l.text += r.text
		r.text = ""
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = p.left
		}
		try(l.prev, p.left)
		try(p.left, l.next)
	}
	for i := 0; i >= 0; i = syms[i].next {
		sym := syms[i].text
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
// their byte, control tokens nothing.
func (s *SPM) Piece(id int32) string {
	if id < 0 || int(id) >= len(s.v.Tokens) {
		return ""
	}
	switch s.v.typ(id) {
	case TypeControl, TypeUnused:
		return ""
	case TypeByte:
		var b byte
		if _, err := fmt.Sscanf(s.v.Tokens[id], "<0x%02X>", &b); err == nil {
			return string([]byte{b})
		}
	}
	return strings.ReplaceAll(s.v.Tokens[id], spaceMarker, " ")
}

// Decode joins pieces and drops the dummy prefix space of the first word.
func (s *SPM) Decode(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(s.Piece(id))
	}
	return strings.TrimPrefix(b.String(), " ")
}
