package engine

import "fmt"

// llama: TinyLlama, Llama 2/3, Mistral-style models. Separate q/k/v and
// gate/up projections; RoPE on adjacent pairs.
func init() {
	register(architecture{name: "llama", ropeNeox: false, load: loadLlamaLayer})
}

func loadLlamaLayer(ld *tensorLoader, c *Config, i int) (layer, error) {
	l, err := commonLayer(ld, c, i)
	if err != nil {
		return l, err
	}
	p := fmt.Sprintf("blk.%d.", i)
	for _, s := range []struct {
		name string
		rows int
	}{{"attn_q", c.QDim()}, {"attn_k", c.KVDim()}, {"attn_v", c.KVDim()}} {
		w, err := ld.matrix(p+s.name+".weight", c.NEmbd, s.rows)
		if err != nil {
			return l, err
		}
		l.qkv = append(l.qkv, w)
	}
	for _, name := range []string{"ffn_gate", "ffn_up"} {
		w, err := ld.matrix(p+name+".weight", c.NEmbd, c.NFF)
		if err != nil {
			return l, err
		}
		l.gateUp = append(l.gateUp, w)
	}
	return l, nil
}
