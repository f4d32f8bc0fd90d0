package engine

import (
	"slices"
	"testing"
)

func TestPromptLookup(t *testing.T) {
	h := []int32{5, 6, 7, 8, 9, 1, 5, 6}
	if got := PromptLookup(h, 2, 3); !slices.Equal(got, []int32{7, 8, 9}) {
		t.Fatalf("got %v, want what followed the earlier 5 6", got)
	}
	// The most recent earlier occurrence wins.
	h = []int32{1, 2, 3, 1, 2, 4, 1, 2}
	if got := PromptLookup(h, 2, 2); !slices.Equal(got, []int32{4, 1}) {
		t.Fatalf("got %v", got)
	}
	// Near the end fewer than k follow; never the tail itself.
	h = []int32{3, 4, 3, 4}
	if got := PromptLookup(h, 2, 5); !slices.Equal(got, []int32{3, 4}) {
		t.Fatalf("got %v", got)
	}
	if PromptLookup([]int32{1, 2, 3}, 2, 2) != nil || PromptLookup(nil, 1, 1) != nil || PromptLookup(h, 0, 1) != nil {
		t.Fatal("no earlier occurrence must propose nothing")
	}
}
