package gguf

import (
	"fmt"
	"math"
)

// Value is one metadata value. Scalars are held as their Go type (uint8,
// int8, ..., float64, bool, string); arrays as Array.
type Value struct {
	Type ValueType
	V    any
}

// Array is a metadata array: Elem is the element type and Values a typed
// slice ([]string, []float32, []int32, []uint32, ... or []Array for nested).
type Array struct {
	Elem   ValueType
	Values any
}

// Len returns the number of elements in the array.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []string:
		return len(v)
	case []float32:
		return len(v)
	case []float64:
		return len(v)
	case []int32:
		return len(v)
	case []uint32:
		return len(v)
	case []int64:
		return len(v)
	case []uint64:
		return len(v)
	case []int8:
		return len(v)
	case []uint8:
		return len(v)
	case []int16:
		return len(v)
	case []uint16:
		return len(v)
	case []bool:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// KV is one metadata key and its value, in file order.
type KV struct {
	Key   string
	Value Value
}

// Metadata is the ordered key/value section of a GGUF file.
type Metadata struct {
	KVs   []KV
	index map[string]int
}

func (m *Metadata) add(kv KV) error {
	if m.index == nil {
		m.index = map[string]int{}
	}
	if _, dup := m.index[kv.Key]; dup {
		return fmt.Errorf("duplicate metadata key %s", Quote(kv.Key))
	}
	m.index[kv.Key] = len(m.KVs)
	m.KVs = append(m.KVs, kv)
	return nil
}

// Get returns the value for key.
func (m *Metadata) Get(key string) (Value, bool) {
	i, ok := m.index[key]
	if !ok {
		return Value{}, false
	}
	return m.KVs[i].Value, true
}

// String returns a string value.
func (m *Metadata) String(key string) (string, error) {
	v, ok := m.Get(key)
	if !ok {
		return "", fmt.Errorf("metadata key %s is missing", Quote(key))
	}
	s, ok := v.V.(string)
	if !ok {
		return "", fmt.Errorf("metadata key %s is %s, want string", Quote(key), v.Type)
	}
	return s, nil
}

// Uint returns a non-negative integer value of any integer type.
func (m *Metadata) Uint(key string) (uint64, error) {
	v, ok := m.Get(key)
	if !ok {
		return 0, fmt.Errorf("metadata key %s is missing", Quote(key))
	}
	var n int64
	switch x := v.V.(type) {
	case uint8:
		return uint64(x), nil
	case uint16:
		return uint64(x), nil
	case uint32:
		return uint64(x), nil
	case uint64:
		return x, nil
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	default:
		return 0, fmt.Errorf("metadata key %s is %s, want an integer", Quote(key), v.Type)
	}
	if n < 0 {
		return 0, fmt.Errorf("metadata key %s is negative (%d)", Quote(key), n)
	}
	return uint64(n), nil
}

// UintOr returns an integer value, or def when the key is absent.
func (m *Metadata) UintOr(key string, def uint64) (uint64, error) {
	if _, ok := m.Get(key); !ok {
		return def, nil
	}
	return m.Uint(key)
}

// Float returns a floating value (float32 or float64).
func (m *Metadata) Float(key string) (float64, error) {
	v, ok := m.Get(key)
	if !ok {
		return 0, fmt.Errorf("metadata key %s is missing", Quote(key))
	}
	switch x := v.V.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("metadata key %s is %s, want a float", Quote(key), v.Type)
}

// FloatOr returns a float value, or def when the key is absent.
func (m *Metadata) FloatOr(key string, def float64) (float64, error) {
	if _, ok := m.Get(key); !ok {
		return def, nil
	}
	f, err := m.Float(key)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return 0, fmt.Errorf("metadata key %s is not finite", Quote(key))
	}
	return f, err
}

// Array returns an array value.
func (m *Metadata) Array(key string) (Array, error) {
	v, ok := m.Get(key)
	if !ok {
		return Array{}, fmt.Errorf("metadata key %s is missing", Quote(key))
	}
	a, ok := v.V.(Array)
	if !ok {
		return Array{}, fmt.Errorf("metadata key %s is %s, want array", Quote(key), v.Type)
	}
	return a, nil
}

// Strings returns a string array.
func (m *Metadata) Strings(key string) ([]string, error) {
	a, err := m.Array(key)
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]string)
	if !ok {
		return nil, fmt.Errorf("metadata key %s is an array of %s, want string", Quote(key), a.Elem)
	}
	return s, nil
}

// Float32s returns a float32 array.
func (m *Metadata) Float32s(key string) ([]float32, error) {
	a, err := m.Array(key)
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]float32)
	if !ok {
		return nil, fmt.Errorf("metadata key %s is an array of %s, want float32", Quote(key), a.Elem)
	}
	return s, nil
}

// Int32s returns an int32 array (token types).
func (m *Metadata) Int32s(key string) ([]int32, error) {
	a, err := m.Array(key)
	if err != nil {
		return nil, err
	}
	switch s := a.Values.(type) {
	case []int32:
		return s, nil
	case []uint32:
		out := make([]int32, len(s))
		for i, v := range s {
			out[i] = int32(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("metadata key %s is an array of %s, want int32", Quote(key), a.Elem)
}

// Format renders a value for display, abbreviating long arrays.
func (v Value) Format() string {
	if a, ok := v.V.(Array); ok {
		n := a.Len()
		switch s := a.Values.(type) {
		case []string:
			if n > 4 {
				return fmt.Sprintf("[%d strings: %q %q %q ...]", n, s[0], s[1], s[2])
			}
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprintf("[%d × %s]", n, a.Elem)
	}
	if s, ok := v.V.(string); ok {
		if len(s) > 80 {
			s = s[:80] + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v.V)
}

// Quote writes a name or a key from a file for an error message: quoted,
// and cut to 64 bytes, so a corrupt file's garbage (a "key" of megabytes)
// never becomes a megabyte error line.
func Quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q...(%d bytes)", s[:limit], len(s))
}
