package profile

import "testing"

var phi4Mock = Identity{Shape: "phi4-14b", Arch: "phi3", Layers: 40, Embd: 5120, Params: 14.7e9, FileType: "q4_k_m"}

func TestModelMatches(t *testing.T) {
	m := Model{Arch: "phi3", Layers: 40, ParamsB: [2]float64{13, 16}, FileType: "Q4_K_M"}
	if !m.Matches(phi4Mock) {
		t.Fatal("Phi-4 not matched")
	}
	for _, id := range []Identity{
		{Arch: "llama", Layers: 40, Params: 14e9, FileType: "q4_k_m"},
		{Arch: "phi3", Layers: 32, Params: 14e9, FileType: "q4_k_m"},
		{Arch: "phi3", Layers: 40, Params: 3e9, FileType: "q4_k_m"},
		{Arch: "phi3", Layers: 40, Params: 14e9, FileType: "q8_0"},
	} {
		if m.Matches(id) {
			t.Errorf("%+v matched %+v", m, id)
		}
	}
	if (&Model{}).Matches(Identity{}) != true {
		t.Error("an empty description matches everything")
	}
}

func TestShippedProfiles(t *testing.T) {
	ps, err := LoadDir("../../configs")
	if err != nil {
		t.Fatal(err)
	}
	p, why, err := Choose(ps, "", "12th Gen Intel(R) Core(TM) i7-12700H")
	if err != nil || p.Name != "alderlake-i7-phi4" {
		t.Fatalf("%v %v %s", p, err, why)
	}
	// The seed's ladder, per phase, for anything that is a Phi-4 Q4_K_M:
	// the mock, or a real file (no shape name).
	for _, id := range []Identity{phi4Mock, {Arch: "phi3", Layers: 40, Embd: 5120, Params: 14.7e9, FileType: "q4_k_m"}} {
		ladder := map[string]float64{}
		ttft := 0
		for _, ph := range []string{"phase2", "phase3", "phase4", "phase5", "phase6", "phase7"} {
			for _, tg := range p.For(id) {
				if !tg.InPhase(ph) {
					continue
				}
				ladder[ph] = max(ladder[ph], tg.DecodeTPSMin, tg.DecodeSpecTPSMin)
				if tg.TTFTMsMax == 2000 && tg.TTFTPrompt > 0 {
					ttft++
				}
			}
		}
		want := map[string]float64{"phase2": 2, "phase3": 2, "phase4": 3.5, "phase5": 3.5, "phase6": 4.5, "phase7": 7}
		for ph, v := range want {
			if ladder[ph] != v {
				t.Errorf("%+v: %s decode target %v, want %v", id, ph, ladder[ph], v)
			}
		}
		if ttft != 5 {
			t.Errorf("%+v: TTFT target in %d phases, want 5 (phase 3 on)", id, ttft)
		}
	}
	// Another model, or Phi-4 in another format, gets none of them.
	if ts := p.For(Identity{Arch: "phi3", Layers: 40, Embd: 5120, FileType: "q8_0"}); len(ts) != 0 {
		t.Fatalf("Q8_0 Phi-4 got the Q4_K_M targets: %+v", ts)
	}
	g, _, _ := Choose(ps, "", "AMD EPYC 9B45")
	small := Identity{Shape: "small", Arch: "llama", Layers: 4, Embd: 1024}
	llama7 := Identity{Arch: "llama", Layers: 32, Embd: 4096, FileType: "q4_k_m"}
	if g.Name != "generic" || len(g.For(small)) != 0 || len(g.For(llama7)) != 1 {
		t.Fatalf("%+v", g)
	}
	if _, _, err := Choose(ps, "nope", ""); err == nil {
		t.Fatal("unknown profile accepted")
	}
}
