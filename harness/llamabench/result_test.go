package llamabench

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"asdsl-bench/internal/testutil"
)

func TestParseLlamaBenchSample(t *testing.T) {
	raw, err := os.ReadFile(testutil.Golden(t, "llama-bench-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 || rs[0].Test() != "pp64" || rs[1].Test() != "tg16" || rs[2].NThreads != 2 {
		t.Fatalf("%+v", rs)
	}
	if rs[0].AvgTs < 6e4 || len(rs[0].SamplesTs) != 2 || rs[0].ModelSize != 1311488 {
		t.Fatalf("%+v", rs[0])
	}
	// Our writer round-trips through the same field names.
	var buf bytes.Buffer
	WriteJSON(&buf, rs)
	back, err := Parse(buf.Bytes())
	if err != nil || back[3].AvgTs != rs[3].AvgTs {
		t.Fatalf("round trip: %v", err)
	}
	var md bytes.Buffer
	WriteMarkdown(&md, rs)
	if !strings.Contains(md.String(), "pp64") || !strings.Contains(md.String(), "1.25 MiB") {
		t.Fatalf("markdown:\n%s", md.String())
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, bad := range []string{``, `{}`, `[{"n_prompt":0,"n_gen":0}]`, `[{"n_prompt":-1}]`, `[{"n_prompt":5,"avg_ts":-3}]`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile(testutil.Golden(f, "llama-bench-sample.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		WriteMarkdown(&buf, rs)
		for i := range rs {
			_ = rs[i].Test()
		}
	})
}

func TestSamples(t *testing.T) {
	var r Result
	r.SetSamples([]int64{1e9, 2e9}, 100)
	if r.AvgTs != 75 || r.AvgNs != 1.5e9 || r.StddevTs == 0 {
		t.Fatalf("%+v", r)
	}
}
