// Package numerics compares next-token distributions: mean KL divergence
// and top-1 agreement between two sets of logits, RMSE between weight
// vectors, and reads llama.cpp's golden fixture files.
package numerics

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// KL returns the mean over rows of KL(ref || got) of the softmaxes of
// two logit matrices ([rows][vocab]) and the fraction of rows whose
// argmax agrees.
func KL(ref, got []float32, vocab int) (meanKL, top1 float64) {
	rows := len(ref) / vocab
	if rows == 0 || len(got) != len(ref) {
		return math.NaN(), 0
	}
	agree := 0
	for r := 0; r < rows; r++ {
		p := logSoftmax(ref[r*vocab : (r+1)*vocab])
		q := logSoftmax(got[r*vocab : (r+1)*vocab])
		var kl float64
		ip, iq := 0, 0
		for i := range p {
			kl += math.Exp(p[i]) * (p[i] - q[i])
			if p[i] > p[ip] {
				ip = i
			}
			if q[i] > q[iq] {
				iq = i
			}
		}
		meanKL += kl
		if ip == iq {
			agree++
		}
	}
	return meanKL / float64(rows), float64(agree) / float64(rows)
}

// RMSE is the root-mean-square difference of two equal-length vectors
// (a quantizer's reconstruction error).
func RMSE(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a)))
}

func logSoftmax(x []float32) []float64 {
	lse := logSumExp(x)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - lse
	}
	return out
}

// LogProb is log p(id) under the softmax of logits, in float64: a
// token's log-likelihood, as perplexity sums it.
func LogProb(logits []float32, id int32) float64 { return float64(logits[id]) - logSumExp(logits) }

// logSumExp is log Σ exp(x), shifted by the maximum so it cannot overflow.
func logSumExp(x []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// ReadLogits reads a float32 little-endian logits file.
func ReadLogits(path string) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw)%4 != 0 {
		return nil, fmt.Errorf("%s: size %d is not a whole number of float32", path, len(raw))
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// ReadGreedy reads a fixture's "prompt:" and "greedy:" token lines.
func ReadGreedy(path string) (prompt, greedy []int32, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "prompt" && name != "greedy") {
			continue // other fields ("text: ...") are read by who needs them
		}
		var ids []int32
		for _, f := range strings.Fields(rest) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", path, err)
			}
			ids = append(ids, int32(n))
		}
		switch name {
		case "prompt":
			prompt = ids
		case "greedy":
			greedy = ids
		}
	}
	if len(prompt) == 0 {
		return nil, nil, fmt.Errorf("%s: no prompt line", path)
	}
	return prompt, greedy, nil
}
