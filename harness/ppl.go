package harness

import (
	"fmt"
	"io"
	"os"

	"asdsl-bench/engine"
	"asdsl-bench/engine/tokenizer"
	"asdsl-bench/harness/perplexity"
	"asdsl-bench/harness/results"
	"asdsl-bench/phases"
)

// measurePerplexity is phase 5's long-context accuracy on real models:
// llama-perplexity's figure with the f32 cache and plain attention, and
// with the Q8_0 cache and flash attention where the model's heads fit.
func measurePerplexity(ph *phases.Phase, models map[string]*engine.Model, o Options, log io.Writer) ([]*results.PerplexityBench, error) {
	pp := o.Suite.Perplexity
	if pp == nil {
		return nil, nil
	}
	var text []byte
	var out []*results.PerplexityBench
	for _, sm := range o.Suite.Models {
		if sm.Path == "" || !sm.UsedIn(ph.Name) {
			continue // mocks have random weights: their perplexity says nothing
		}
		if text == nil {
			var err error
			if text, err = os.ReadFile(pp.File); err != nil {
				return nil, fmt.Errorf("perplexity: %w", err)
			}
		}
		m := models[sm.Name]
		tok, err := tokenizer.FromGGUF(&m.File.Meta)
		if err != nil {
			return nil, fmt.Errorf("%s perplexity: tokenizer: %w", sm.Name, err)
		}
		ids := tok.Encode(string(text), true, false)
		bos := int32(-1)
		if v := tok.Vocab(); v.AddBOS {
			bos = v.BOS
		}
		ctx := min(pp.Ctx, m.Config.NCtx)
		pb := &results.PerplexityBench{Model: sm.Name, File: pp.File, Ctx: ctx}
		run := func(f engine.Features) (*perplexity.Result, error) {
			return perplexity.Run(m, ids, perplexity.Options{Ctx: ctx, Chunks: pp.Chunks, BOS: bos, Features: f})
		}
		if pb.F32, err = run(engine.Features{NoFlash: true}); err != nil {
			return nil, fmt.Errorf("%s perplexity: %w", sm.Name, err)
		}
		if m.Config.FlashFits() {
			if pb.Q8, err = run(engine.Features{}); err != nil {
				return nil, fmt.Errorf("%s perplexity: %w", sm.Name, err)
			}
		} else {
			pb.Q8Note = fmt.Sprintf("head size %d is not a multiple of the Q8_0 block (32): this model always uses the f32 cache", m.Config.HeadDim)
		}
		fmt.Fprintf(log, "  perplexity %s on %s (chunks of %d): f32 cache %.4f +/- %.4f%s\n", sm.Name, pp.File, ctx, pb.F32.PPL, pb.F32.PPLErr, q8String(pb))
		out = append(out, pb)
	}
	return out, nil
}

func q8String(pb *results.PerplexityBench) string {
	if pb.Q8 == nil {
		return "; Q8_0 cache: " + pb.Q8Note
	}
	return fmt.Sprintf("; Q8_0 cache %.4f +/- %.4f (%+.2f%%)", pb.Q8.PPL, pb.Q8.PPLErr, 100*(pb.Q8.PPL/pb.F32.PPL-1))
}
