// Package yamlstrict checks what yaml.v3 lets through when it decodes a
// document into a Go struct: it truncates a float written where an
// integer belongs ("prompt: 8.5" becomes 8). Suites, profiles and tuned
// settings are measurements' inputs; a value the file did not say is a
// wrong result, so those loaders refuse it with the line it is on.
package yamlstrict

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Integers walks the document node alongside the Go type it decodes
// into and returns an error naming file:line for the first integer
// field written as anything but an integer.
func Integers(doc *yaml.Node, t reflect.Type, file string) error {
	if doc != nil && doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	return walk(doc, t, file, "")
}

func walk(n *yaml.Node, t reflect.Type, file, path string) error {
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.Tag != "!!int" && n.Tag != "!!null" {
			return fmt.Errorf("%s:%d: %s is %q, want a whole number", file, n.Line, strings.TrimPrefix(path, "."), n.Value)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if err := walk(c, t.Elem(), file, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := walk(n.Content[i+1], t.Elem(), file, path+"."+n.Content[i].Value); err != nil {
					return err
				}
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := map[string]reflect.Type{}
		collect(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if ft, ok := fields[key]; ok {
				if err := walk(n.Content[i+1], ft, file, path+"."+key); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// collect maps a struct's YAML keys to their types, inlined structs
// included.
func collect(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collect(ft, out)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
}
