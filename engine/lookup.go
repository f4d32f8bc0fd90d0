package engine

// PromptLookup is draft-free speculation's drafter (llama.cpp's "lookup"
// and prompt-lookup decoding): the proposal is what followed the most
// recent earlier occurrence of the context's last n tokens. It costs a
// scan of the context and no model. Text that repeats its prompt (code
// edits, summaries, retrieval answers) is where it pays. It returns at
// most k tokens, none when the n-gram has not occurred before.
func PromptLookup(history []int32, n, k int) []int32 {
	if n < 1 || k < 1 || len(history) <= n {
		return nil
	}
	tail := history[len(history)-n:]
	for start := len(history) - n - 1; start >= 0; start-- {
		match := true
		for j := 0; j < n; j++ {
			if history[start+j] != tail[j] {
				match = false
				break
			}
		}
		if match {
			from := start + n
			return history[from:min(from+k, len(history))]
		}
	}
	return nil
}
