package profile

import "testing"

func TestShippedProfiles(t *testing.T) {
	ps, err := LoadDir("../../configs")
	if err != nil {
		t.Fatal(err)
	}
	p, why, err := Choose(ps, "", "12th Gen Intel(R) Core(TM) i7-12700H")
	if err != nil || p.Name != "alderlake-i7-phi4" {
		t.Fatalf("%v %v %s", p, err, why)
	}
	if ts := p.For("phi4-14b"); len(ts) != 1 || ts[0].DecodeTPSMin != 3.5 || ts[0].TTFTMsMax != 2000 {
		t.Fatalf("%+v", ts)
	}
	g, _, _ := Choose(ps, "", "AMD EPYC 9B45")
	if g.Name != "generic" || len(g.For("small")) != 0 || len(g.For("llama2-7b")) != 1 {
		t.Fatalf("%+v", g)
	}
	if _, _, err := Choose(ps, "nope", ""); err == nil {
		t.Fatal("unknown profile accepted")
	}
}
