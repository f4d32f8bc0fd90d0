package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"asdsl-bench/engine/gguf"
)

// A byte-level BPE vocabulary is only half a tokenizer: before merging,
// text is cut into words by a pattern that the model's training fixed
// (tokenizer.json's pre_tokenizer). GGUF names it in tokenizer.ggml.pre,
// and a wrong cut gives ids the model never saw, so an unknown name is
// an error here, never a silent GPT-2 split.
//
// The patterns use look-ahead (\s+(?!\S)), which Go's regexp lacks, so
// each is written out as a scanner over code points, in the order the
// pattern's alternatives are tried (the leftmost alternative that
// matches wins, as in every backtracking regex engine). Some
// pre-tokenizers are a chain of patterns: each one cuts the pieces the
// previous one left, and text between matches is a piece too.

// cut scans cps[start:end] and returns the lengths of the pieces it is
// split into, in order; they sum to end-start.
type cut func(cps []rune, start, end int) []int

// preTokenizer is one tokenizer.ggml.pre family.
type preTokenizer struct {
	cuts []cut
	// ignoreMerges: a word that is itself in the vocabulary is one token,
	// whatever the merges would make of it (Llama 3's tokenizer.json).
	ignoreMerges bool
	// cleanSpaces: detokenized text loses the space before . , ! ? and
	// contractions (Hugging Face's clean_up_tokenization_spaces).
	cleanSpaces bool
	// addBOS is the default when the file has no add_bos_token key.
	addBOS bool
}

// preTokenizers maps tokenizer.ggml.pre to its rule. Names that llama.cpp
// treats alike share one entry.
var preTokenizers = func() map[string]preTokenizer {
	gpt2 := preTokenizer{cuts: []cut{cutGPT2}, cleanSpaces: true}
	llama3 := preTokenizer{cuts: []cut{cutLlama3(3)}, ignoreMerges: true, cleanSpaces: true, addBOS: true}
	dbrx := preTokenizer{cuts: []cut{cutLlama3(3)}, cleanSpaces: true}
	qwen2 := preTokenizer{cuts: []cut{cutLlama3(1)}}
	m := map[string]preTokenizer{
		// An old converter's default: punctuation runs, the GPT-2 pattern,
		// digit runs, then groups of three ASCII digits.
		"default": {cuts: []cut{
			cutRuns(func(r rune) bool { return isPunct(r) || strings.ContainsRune("$+<=>^~|", r) }, 0),
			cutGPT2,
			cutRuns(isNumber, 0),
			cutRuns(func(r rune) bool { return '0' <= r && r <= '9' }, 3),
		}, cleanSpaces: true},
		"falcon": {cuts: []cut{
			cutRuns(func(r rune) bool { return isPunct(r) || strings.ContainsRune("$+<=>^~|`", r) }, 0),
			cutGPT2,
			cutRuns(func(r rune) bool { return '0' <= r && r <= '9' }, 3),
		}, cleanSpaces: true},
		"starcoder":   {cuts: []cut{cutRuns(isNumber, 1), cutGPT2}, cleanSpaces: true},
		"qwen2":       qwen2,
		"stablelm2":   {cuts: qwen2.cuts, cleanSpaces: true},
		"megrez":      {cuts: qwen2.cuts, cleanSpaces: true},
		"dbrx":        dbrx,
		"smaug-bpe":   dbrx,
		"chatglm-bpe": {cuts: []cut{cutLlama3(3)}, cleanSpaces: true},
	}
	for _, n := range []string{"gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4"} {
		m[n] = gpt2
	}
	for _, n := range []string{"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"} {
		m[n] = llama3
	}
	for _, n := range []string{"deepseek-r1-qwen"} {
		m[n] = qwen2
	}
	for _, n := range []string{"refact", "smollm", "codeshell", "exaone", "command-r"} {
		m[n] = m["starcoder"]
	}
	r := m["command-r"]
	r.cleanSpaces = false
	m["command-r"] = r
	s := m["smollm"]
	s.cleanSpaces = false
	m["smollm"] = s
	return m
}()

// lookupPre returns the rule for a tokenizer.ggml.pre name ("" is an old
// file's missing key, which llama.cpp reads as "default").
func lookupPre(name string) (preTokenizer, error) {
	if name == "" {
		name = "default"
	}
	p, ok := preTokenizers[name]
	if !ok {
		known := make([]string, 0, len(preTokenizers))
		for k := range preTokenizers {
			known = append(known, k)
		}
		sort.Strings(known)
		return p, fmt.Errorf("tokenizer.ggml.pre %s is not supported: its word-splitting rule is unknown here, and another rule would give ids the model never saw (supported: %s)",
			gguf.Quote(name), strings.Join(known, ", "))
	}
	return p, nil
}

// words applies the chain of cuts to text and returns the words.
func (p preTokenizer) words(text string) []string {
	cps := []rune(text) // invalid UTF-8 bytes become U+FFFD, as in llama.cpp
	lens := []int{len(cps)}
	for _, c := range p.cuts {
		var next []int
		start := 0
		for _, n := range lens {
			next = append(next, c(cps, start, start+n)...)
			start += n
		}
		lens = next
	}
	out := make([]string, 0, len(lens))
	start := 0
	for _, n := range lens {
		if n > 0 {
			out = append(out, string(cps[start:start+n]))
		}
		start += n
	}
	return out
}

// Character classes, as the patterns' \s, \p{L}, \p{N} mean them: \s is
// Unicode's White_Space property (not Go's IsSpace, which lacks nothing
// here but is defined differently), letters and numbers their general
// categories.
func isSpace(r rune) bool  { return unicode.Is(unicode.White_Space, r) }
func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }

// isPunct is \p{P}; below 128 the pattern engine's own ASCII list, which
// leaves out the symbols $ + < = > ^ ` | ~ (category S).
func isPunct(r rune) bool {
	if r < 128 {
		return strings.ContainsRune("!\"#%&'()*,-./:;?@[\\]_{}", r)
	}
	return unicode.IsPunct(r)
}

// other is [^\s\p{L}\p{N}].
func other(r rune) bool { return !isSpace(r) && !isLetter(r) && !isNumber(r) }

// cutRuns splits out maximal runs of class members (a pattern like
// [\p{P}]+); with max > 0, max-long matches within runs (a pattern like
// [0-9][0-9][0-9], or \p{N} with max 1). Text between matches is a
// piece too.
func cutRuns(class func(rune) bool, max int) cut {
	return func(cps []rune, start, end int) []int {
		var lens []int
		prev := start
		emit := func(at int) {
			if at > prev {
				lens = append(lens, at-prev)
				prev = at
			}
		}
		for i := start; i < end; {
			if !class(cps[i]) {
				i++
				continue
			}
			j := i
			for j < end && class(cps[j]) {
				j++
			}
			if max == 0 {
				emit(i)
				emit(j)
			} else if j-i >= max {
				// Whole groups are matches; a shorter rest is not, and
				// joins the text after it as one piece.
				emit(i)
				for i+max <= j {
					i += max
					emit(i)
				}
			}
			i = j
		}
		emit(end)
		return lens
	}
}

// at returns cps[i] inside [start,end), or -1 outside (past the end, the
// patterns see nothing: no class matches).
func at(cps []rune, start, end, i int) rune {
	if i < start || i >= end {
		return -1
	}
	return cps[i]
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at i, or 0;
// fold makes it case-insensitive (Llama 3's (?i:...)).
func contraction(cps []rune, start, end, i int, fold bool) int {
	if at(cps, start, end, i) != '\'' {
		return 0
	}
	low := func(r rune) rune {
		if fold && r >= 0 {
			return unicode.ToLower(r)
		}
		return r
	}
	a, b := low(at(cps, start, end, i+1)), low(at(cps, start, end, i+2))
	switch {
	case a == 's' || a == 't' || a == 'm' || a == 'd':
		return 2
	case a == 'r' && b == 'e', a == 'v' && b == 'e', a == 'l' && b == 'l':
		return 3
	}
	return 0
}

// spaceRun measures the whitespace run at i: its length and the end of
// its last \r or \n (0 if none).
func spaceRun(cps []rune, start, end, i int) (n, lastNewline int) {
	for j := i; j < end && isSpace(cps[j]); j++ {
		if cps[j] == '\r' || cps[j] == '\n' {
			lastNewline = j + 1
		}
		n++
	}
	return n, lastNewline
}

// cutGPT2 is GPT-2's pattern:
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func cutGPT2(cps []rune, start, end int) []int {
	var lens []int
	for i := start; i < end; {
		n := matchGPT2(cps, start, end, i)
		lens = append(lens, n)
		i += n
	}
	return lens
}

func matchGPT2(cps []rune, start, end, i int) int {
	if n := contraction(cps, start, end, i, false); n > 0 {
		return n
	}
	j := i
	if cps[i] == ' ' && i+1 < end {
		j = i + 1 // the optional space, if a word follows
	}
	for _, class := range []func(rune) bool{isLetter, isNumber, other} {
		if !class(cps[j]) {
			continue
		}
		k := j + 1
		for k < end && class(cps[k]) {
			k++
		}
		return k - i
	}
	n, _ := spaceRun(cps, start, end, i)
	if n > 1 && i+n < end {
		return n - 1 // \s+(?!\S): leave the last space to the next word
	}
	if n > 0 {
		return n
	}
	return 1
}

// cutLlama3 is Llama 3's pattern (also Phi-4's cl100k-style tokenizer and
// DBRX's), with digits grouped up to maxDigits (3; Qwen2's pattern takes
// digits one at a time):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func cutLlama3(maxDigits int) cut {
	return func(cps []rune, start, end int) []int {
		var lens []int
		for i := start; i < end; {
			n := matchLlama3(cps, start, end, i, maxDigits)
			lens = append(lens, n)
			i += n
		}
		return lens
	}
}

func matchLlama3(cps []rune, start, end, i, maxDigits int) int {
	if n := contraction(cps, start, end, i, true); n > 0 {
		return n
	}
	c := cps[i]
	// [^\r\n\p{L}\p{N}]?\p{L}+ : any one non-newline, non-digit character
	// may lead a run of letters (a space, a tab, a quote).
	if c != '\r' && c != '\n' && !isNumber(c) {
		if isLetter(c) || (i+1 < end && isLetter(cps[i+1])) {
			k := i + 1
			for k < end && isLetter(cps[k]) {
				k++
			}
			return k - i
		}
	}
	if isNumber(c) {
		k := i + 1
		for k < end && k-i < maxDigits && isNumber(cps[k]) {
			k++
		}
		return k - i
	}
	//  ?[^\s\p{L}\p{N}]+[\r\n]*
	j := i
	if c == ' ' && i+1 < end {
		j = i + 1
	}
	if other(cps[j]) {
		k := j + 1
		for k < end && other(cps[k]) {
			k++
		}
		for k < end && (cps[k] == '\r' || cps[k] == '\n') {
			k++
		}
		return k - i
	}
	n, nl := spaceRun(cps, start, end, i)
	if nl > 0 {
		return nl - i // \s*[\r\n]+ : up to the run's last newline
	}
	if n > 1 && i+n < end {
		return n - 1
	}
	if n > 0 {
		return n
	}
	return 1
}
