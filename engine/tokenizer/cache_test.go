package tokenizer

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Merging Llama 2's text word by word (SPM.wordsApart) gives exactly the
// pieces of merging it as one sequence, as llama.cpp does: 300 lines of
// WikiText-2 and the edge cases as one text, both ways. The vocabulary
// must qualify, or the test would compare the fallback with itself.
func TestSPMWordsApartEqualsOneSequence(t *testing.T) {
	tok := openVocab(t, "llama2-spm").(*SPM)
	if !tok.wordsApart {
		t.Fatal("Llama 2's vocabulary should let words merge apart")
	}
	var lines []string
	for _, c := range readCases(t, filepath.Join("testdata", "tokens-llama2-spm-wikitext2-test-300.jsonl.gz")) {
		lines = append(lines, c.Text)
	}
	for _, c := range readCases(t, filepath.Join("testdata", "tokens-llama2-spm-edge.jsonl")) {
		lines = append(lines, c.Text)
	}
	text := strings.Join(lines, "\n")
	apart := tok.Encode(text, true, false)
	whole := NewSPM(tok.v)
	whole.wordsApart = false
	if one := whole.Encode(text, true, false); !slices.Equal(apart, one) {
		t.Fatalf("word by word: %d ids, one sequence: %d ids, first difference at %d", len(apart), len(one), firstDiff(apart, one))
	}
}

// A vocabulary with a piece that joins a word to the next one's space
// keeps the one-sequence merge.
func TestSPMWordsApartNeedsTheVocabulary(t *testing.T) {
	v := &Vocab{Tokens: []string{"a", "b", "▁", "a▁b"}}
	if NewSPM(v).wordsApart {
		t.Fatal(`"a▁b" lets a merge cross a word's start`)
	}
	v = &Vocab{Tokens: []string{"a", "b", "▁", "▁▁", "▁a"}}
	if !NewSPM(v).wordsApart {
		t.Fatal(`"▁▁" and "▁a" do not cross a word's start`)
	}
}

// The word caches give the same ids on a second pass and from goroutines
// sharing one tokenizer (run with -race).
func TestWordCacheIsStableAndShared(t *testing.T) {
	for _, name := range parityVocabs {
		tok := openVocab(t, name)
		var lines []string
		for _, c := range readCases(t, filepath.Join("testdata", "tokens-"+name+"-wikitext2-test-300.jsonl.gz")) {
			lines = append(lines, c.Text)
		}
		first := tok.Encode(strings.Join(lines, "\n"), true, false)
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if again := tok.Encode(strings.Join(lines, "\n"), true, false); !slices.Equal(first, again) {
					errs <- name
				}
			}()
		}
		wg.Wait()
		close(errs)
		for n := range errs {
			t.Fatalf("%s: a second pass gave other ids", n)
		}
	}
}

func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
