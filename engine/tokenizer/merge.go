package tokenizer

import "unicode/utf8"

// Both tokenizers build a word up from its characters by merging
// adjacent pieces, best pair first: SentencePiece by the merged piece's
// score (highest first), BPE by the merge's rank (lowest first), the
// leftmost pair on ties, each merge making new candidate pairs with its
// neighbours. That is llama.cpp's (and SentencePiece's, and Hugging
// Face's) order. A piece is a byte range of the text, so a merge moves
// no bytes; a heap with lazy deletion keeps a long input (a whole file
// is one SentencePiece fragment) at O(n log n).

// mergePair is a candidate merge of pieces left and right.
type mergePair struct {
	prio        float64 // lower merges first
	left, right int32
	end         int32 // the right piece's end when queued: a stale pair's differs
}

// mergeHeap is a binary min-heap on (prio, left).
type mergeHeap []mergePair

func (h mergeHeap) less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio < h[j].prio
	}
	return h[i].left < h[j].left
}

func (h *mergeHeap) push(p mergePair) {
	*h = append(*h, p)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *mergeHeap) pop() mergePair {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(q) && q.less(l, m) {
			m = l
		}
		if r < len(q) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// piece is a byte range [start,end) of the text in a linked list.
type piece struct {
	start, end int32
	prev, next int32 // -1 at the ends
}

// mergeText merges text's characters while prio(left, right, merged)
// says a pair may merge (ok) and how soon; it returns the final pieces.
func mergeText(text string, prio func(left, right, merged string) (float64, bool)) []string {
	ps := make([]piece, 0, len(text))
	for i := 0; i < len(text); {
		_, n := utf8.DecodeRuneInString(text[i:])
		ps = append(ps, piece{start: int32(i), end: int32(i + n), prev: int32(len(ps) - 1), next: int32(len(ps) + 1)})
		i += n
	}
	if len(ps) == 0 {
		return nil
	}
	ps[len(ps)-1].next = -1
	h := make(mergeHeap, 0, 2*len(ps))
	try := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		if p, ok := prio(text[ps[l].start:ps[l].end], text[ps[r].start:ps[r].end], text[ps[l].start:ps[r].end]); ok {
			h.push(mergePair{prio: p, left: l, right: r, end: ps[r].end})
		}
	}
	for i := 1; i < len(ps); i++ {
		try(int32(i-1), int32(i))
	}
	for len(h) > 0 {
		p := h.pop()
		l, r := &ps[p.left], &ps[p.right]
		if l.end == l.start || r.end == r.start || l.next != p.right || r.end != p.end {
			continue // stale: one side merged since this pair was queued
		}
		l.end = r.end
		r.start = r.end // empty: merged away
		l.next = r.next
		if r.next >= 0 {
			ps[r.next].prev = p.left
		}
		try(l.prev, p.left)
		try(p.left, l.next)
	}
	var out []string
	for i := int32(0); i >= 0; i = ps[i].next {
		out = append(out, text[ps[i].start:ps[i].end])
	}
	return out
}

// mergeBPE applies BPE merges by rank.
func mergeBPE(word string, ranks map[[2]string]int) []string {
	return mergeText(word, func(l, r, _ string) (float64, bool) {
		rank, ok := ranks[[2]string{l, r}]
		return float64(rank), ok
	})
}
