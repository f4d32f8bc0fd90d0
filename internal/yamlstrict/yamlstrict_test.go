package yamlstrict

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	N  int     `yaml:"n"`
	F  float64 `yaml:"f"`
	Ts []int   `yaml:"ts"`
}

type outer struct {
	Name  string           `yaml:"name"`
	Items []inner          `yaml:"items"`
	Ptr   *inner           `yaml:"ptr"`
	ByKey map[string]int64 `yaml:"by_key"`
}

func TestIntegers(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"name: x\nitems:\n  - {n: 3, f: 0.5, ts: [1, 2]}\nptr: {n: 1}\nby_key: {a: 7}\n", ""},
		{"items:\n  - {n: 8.5}\n", "f.yaml:2: items[0].n is \"8.5\", want a whole number"},
		{"items:\n  - {ts: [1, 2.0]}\n", "items[0].ts[1] is \"2.0\""},
		{"ptr:\n  n: \"3\"\n", "f.yaml:2: ptr.n is \"3\""},
		{"by_key: {a: 1e3}\n", "by_key.a is \"1e3\""},
	} {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(c.doc), &root); err != nil {
			t.Fatal(err)
		}
		err := Integers(&root, reflect.TypeOf(outer{}), "f.yaml")
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.doc, err, c.want)
		}
	}
}
