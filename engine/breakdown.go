package engine

import "time"

// Step is a part of the forward pass, as a time breakdown splits it.
type Step int

const (
	StepEmbed     Step = iota // token embeddings
	StepNorm                  // RMS norms and residual adds
	StepQuantize              // activations to Q8_K/Q8_0 before each matmul
	StepQKV                   // the q, k and v projections
	StepRope                  // rotary position embedding
	StepKVStore               // keys and values rotated and quantized into the cache
	StepAttention             // attention over the cache
	StepWo                    // the attention output projection
	StepGateUp                // the FFN gate and up projections
	StepSwiGLU                // silu(gate)·up
	StepDown                  // the FFN down projection
	StepOutput                // the output norm and the vocabulary projection
	NumSteps
)

var stepNames = [NumSteps]string{"embed", "norm", "quantize", "qkv", "rope", "kv-store", "attention", "wo", "gate-up", "swiglu", "down", "output"}

func (s Step) String() string { return stepNames[s] }

// Matmul says whether the step is a weight matrix product (its time is
// the weights' stream).
func (s Step) Matmul() bool {
	return s == StepQKV || s == StepWo || s == StepGateUp || s == StepDown || s == StepOutput
}

// Breakdown accumulates where a session's forward passes spend their
// time, as worker 0 (the thread that drives the pass) sees it: a
// parallel op lasts until its slowest worker is done, and that waiting
// is counted in the op's step and, in total, in Wait. Matmul steps also
// count the weight bytes they read, so their time reads as a stream
// rate. The clock is read at op boundaries only (about 15 reads per
// layer), so a breakdown costs a decode step well under 0.1%.
type Breakdown struct {
	Time   [NumSteps]time.Duration
	Bytes  [NumSteps]int64
	Wait   time.Duration // worker 0 idle at op ends, waiting for helpers
	Evals  int           // forward passes
	Tokens int           // tokens evaluated

	last      time.Time
	quant     time.Duration // quantization since the last mark
	bytes     int64         // weight bytes since the last mark
	waitStart time.Duration // the pool's wait clock at the pass's start
}

// Total is the time of all steps.
func (b *Breakdown) Total() time.Duration {
	var t time.Duration
	for _, d := range b.Time {
		t += d
	}
	return t
}

// SetBreakdown makes the session's forward passes add their time to b
// (nil stops it). It must not be called during an Eval.
func (s *Session) SetBreakdown(b *Breakdown) {
	s.bd = b
	s.e.bd = b
	s.e.pool.ClockWaits(b != nil)
}

// markStart opens a pass's breakdown.
func (s *Session) markStart(T int) {
	if b := s.bd; b != nil {
		b.Evals++
		b.Tokens += T
		b.last, b.quant, b.bytes = time.Now(), 0, 0
		b.waitStart = s.e.pool.Waited()
	}
}

// mark ends a step: the time since the last mark is the step's, less
// the activation quantization inside it.
func (s *Session) mark(step Step) {
	b := s.bd
	if b == nil {
		return
	}
	now := time.Now()
	b.Time[StepQuantize] += b.quant
	b.Time[step] += now.Sub(b.last) - b.quant
	b.Bytes[step] += b.bytes
	b.last, b.quant, b.bytes = now, 0, 0
}

// markEnd closes a pass's breakdown.
func (s *Session) markEnd() {
	if b := s.bd; b != nil {
		b.Wait += s.e.pool.Waited() - b.waitStart
	}
}
