package engine

import "fmt"

// phi3: Phi-3 and Phi-4. One fused attn_qkv projection (rows q, then k,
// then v) and one fused ffn_up (rows gate, then up); NEOX RoPE.
func init() {
	register(architecture{name: "phi3", ropeNeox: true, load: loadPhi3Layer})
}

func loadPhi3Layer(ld *tensorLoader, c *Config, i int) (layer, error) {
	l, err := commonLayer(ld, c, i)
	if err != nil {
		return l, err
	}
	p := fmt.Sprintf("blk.%d.", i)
	qkv, err := ld.matrix(p+"attn_qkv.weight", c.NEmbd, c.QDim()+2*c.KVDim())
	if err != nil {
		return l, err
	}
	up, err := ld.matrix(p+"ffn_up.weight", c.NEmbd, 2*c.NFF)
	if err != nil {
		return l, err
	}
	l.qkv, l.gateUp = []*Matrix{qkv}, []*Matrix{up}
	return l, nil
}
