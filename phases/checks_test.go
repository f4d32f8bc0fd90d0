package phases

import (
	"reflect"
	"testing"

	"asdsl-bench/internal/numerics"
	"asdsl-bench/internal/testutil"
)

// The generated prompt is the fixtures' prompt (the 512-token one where
// ../shared has it, the 64-token one in any checkout).
func TestFixturePromptIsTheFixtures(t *testing.T) {
	name := "llama-Q4_K_M.p64.greedy.txt"
	if _, err := testutil.HaveShared(); err == nil {
		name = "llama-Q4_K_M.p512.greedy.txt"
	}
	want, _, err := numerics.ReadGreedy(testutil.Golden(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if got := fixturePrompt(len(want)); !reflect.DeepEqual(got, want) {
		t.Fatalf("generated prompt differs from %s", name)
	}
}
