package gguf

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"asdsl-bench/internal/testutil"
)

func TestFixturesParseAndMatchTypes(t *testing.T) {
	for _, stem := range []string{"llama-Q4_K_M", "phi3-Q4_K_M"} {
		f, err := Open(testutil.Golden(t, stem+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(testutil.Golden(t, stem+".types.txt"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 2 {
				continue
			}
			ti, ok := f.Tensor(fields[0])
			if !ok {
				t.Fatalf("%s: tensor %s missing", stem, fields[0])
			}
			if !strings.EqualFold(ti.Type.String(), fields[1]) {
				t.Errorf("%s: %s is %s, types.txt says %s", stem, fields[0], ti.Type, fields[1])
			}
			if len(f.TensorData(ti)) != int(ti.Size) {
				t.Errorf("size mismatch")
			}
			n++
		}
		fh.Close()
		if n != len(f.Tensors) {
			t.Errorf("%s: %d tensors listed, file has %d", stem, n, len(f.Tensors))
		}
		if arch, _ := f.Meta.String("general.architecture"); arch == "" {
			t.Errorf("%s: no architecture", stem)
		}
		f.Close()
	}
}

func buildFile(t *testing.T, meta []KV, specs []TensorSpec, data [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, meta, specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data {
		if _, err := w.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriterRoundTrip(t *testing.T) {
	meta := []KV{
		{"general.architecture", Str("llama")},
		{"x.count", U32(7)},
		{"x.f", F32(0.5)},
		{"x.tokens", Strs([]string{"a", "b", "c"})},
		{"x.scores", F32s([]float32{1, 2})},
		{"x.flag", Bool(true)},
	}
	specs := []TensorSpec{{"a", []uint64{4, 2}, TypeF32}, {"b", []uint64{3}, TypeF16}}
	raw := buildFile(t, meta, specs, [][]byte{make([]byte, 32), {1, 2, 3, 4, 5, 6}})
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Meta.Uint("x.count"); n != 7 {
		t.Error("count")
	}
	if s, _ := f.Meta.Strings("x.tokens"); len(s) != 3 || s[2] != "c" {
		t.Error("tokens")
	}
	if b, ok := f.Tensor("b"); !ok || !bytes.Equal(f.TensorData(b), []byte{1, 2, 3, 4, 5, 6}) {
		t.Error("tensor b data")
	}
	if f.Tensors[1].Offset%32 != 0 {
		t.Error("alignment")
	}
	// The writer refuses short data.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, meta, specs)
	w.Write(make([]byte, 10))
	if err := w.Finish(); err == nil {
		t.Error("Finish accepted missing data")
	}
}

// Every prefix of a valid file must give an error, never a panic.
func TestTruncatedFilesFailCleanly(t *testing.T) {
	raw, err := os.ReadFile(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 3, 4, 7, 8, 20, 24, 100, 1000, int(f.DataOffset) - 1, int(f.DataOffset) + 10, len(raw) - 1}
	for i := 0; i < int(f.DataOffset); i += 997 {
		cuts = append(cuts, i)
	}
	for _, n := range cuts {
		if _, err := Parse(raw[:n]); err == nil {
			t.Errorf("prefix of %d bytes parsed without error", n)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("prefix %d: error %v does not wrap ErrFormat", n, err)
		}
	}
}

func header(nTensors, nKV uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, Magic)
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, nTensors)
	return binary.LittleEndian.AppendUint64(b, nKV)
}

func TestBadInputErrors(t *testing.T) {
	good := buildFile(t, nil, []TensorSpec{{"w", []uint64{256, 2}, TypeQ4_K}}, [][]byte{make([]byte, 288)})
	tensorInfoAt := len(header(1, 0))

	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"version 1", mutate(func(b []byte) []byte { b[4] = 1; return b }), "version 1"},
		{"absurd tensor count", append(header(1<<40, 0), make([]byte, 64)...), "absurd tensor count"},
		{"absurd kv count", append(header(0, 1<<40), make([]byte, 64)...), "absurd metadata count"},
		{"huge string", append(header(0, 1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "truncated"},
		{"unknown type", mutate(func(b []byte) []byte {
			// name(8+1) ndims(4) dims(16) then type
			binary.LittleEndian.PutUint32(b[tensorInfoAt+8+1+4+16:], 11)
			return b
		}), "Q3_K"},
		{"repacked by an older asdsl-bench", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[tensorInfoAt+8+1+4+16:], uint32(TypeQ4_K_R4v1))
			return b
		}), "repack the GGUF file again"},
		{"Q6_K repacked by an older asdsl-bench", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[tensorInfoAt+8+1+4+16:], uint32(TypeQ6_K_R4v1))
			return b
		}), "repack the GGUF file again"},
		{"out of file", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[tensorInfoAt+8+1+4+16+4:], 1<<20)
			return b
		}), "past the end"},
		{"misaligned", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[tensorInfoAt+8+1+4+16+4:], 3)
			return b
		}), "not aligned"},
		{"row not whole blocks", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[tensorInfoAt+8+1+4:], 100)
			return b
		}), "not a multiple"},
	}
	for _, c := range cases {
		_, err := Parse(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
	// Overlap: two tensors at the same offset.
	two := buildFile(t, nil, []TensorSpec{{"a", []uint64{8}, TypeF32}, {"b", []uint64{8}, TypeF32}}, [][]byte{make([]byte, 32), make([]byte, 32)})
	off := len(header(2, 0)) + 8 + 1 + 4 + 8 + 4 // tensor a's offset field
	second := off + 8 + 8 + 1 + 4 + 8 + 4
	binary.LittleEndian.PutUint64(two[second:], 0)
	if _, err := Parse(two); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("overlap: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err == nil {
		t.Error("directory opened")
	}
	empty := dir + "/empty.gguf"
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty: %v", err)
	}
	if _, err := Open(dir + "/missing.gguf"); err == nil {
		t.Error("missing opened")
	}
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	a, err := CreateAtomic(dir + "/out.gguf")
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("x"))
	a.Abort()
	if _, err := os.Stat(dir + "/out.gguf"); err == nil {
		t.Fatal("aborted file exists")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("temp left behind: %v", entries)
	}
	a, _ = CreateAtomic(dir + "/out.gguf")
	a.Write([]byte("x"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dir + "/out.gguf"); string(b) != "x" {
		t.Fatal("commit")
	}
}

// WillNeed accepts every tensor view of a mapped file (starts that are
// not page-aligned included) and the empty slice.
func TestWillNeedOnMappedTensors(t *testing.T) {
	f, err := Open(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Tensors {
		if err := WillNeed(f.TensorData(&f.Tensors[i])); err != nil {
			t.Fatalf("%s: %v", f.Tensors[i].Name, err)
		}
	}
	if err := WillNeed(nil); err != nil {
		t.Fatal(err)
	}
}

// DontNeed accepts every tensor view of a mapped file, and the data reads
// back unchanged afterwards (the pages fault in again from the file).
func TestDontNeedKeepsData(t *testing.T) {
	f, err := Open(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Tensors {
		b := f.TensorData(&f.Tensors[i])
		before := bytes.Clone(b)
		if err := f.DontNeed(b); err != nil {
			t.Fatalf("%s: %v", f.Tensors[i].Name, err)
		}
		if !bytes.Equal(before, b) {
			t.Fatalf("%s: data changed after DontNeed", f.Tensors[i].Name)
		}
	}
}

// DontNeed leaves data given to Parse alone: releasing those pages would
// zero them.
func TestDontNeedSparesParsedData(t *testing.T) {
	raw, err := os.ReadFile(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		b := f.TensorData(&f.Tensors[i])
		before := bytes.Clone(b)
		if err := f.DontNeed(b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, b) {
			t.Fatalf("%s: parsed data changed", f.Tensors[i].Name)
		}
	}
}

// A corrupt file's garbage never becomes a huge error line: names and
// keys are quoted up to 64 bytes.
func TestErrorsQuoteAtMost64Bytes(t *testing.T) {
	long := strings.Repeat("k", 1<<20)
	data := buildFile(t, []KV{{Key: long, Value: U32(1)}, {Key: long, Value: U32(2)}}, nil, nil)
	_, err := Parse(data)
	if err == nil {
		t.Fatal("duplicate key accepted")
	}
	if len(err.Error()) > 300 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Fatalf("error of %d bytes: %.200s", len(err.Error()), err)
	}
}

// ReadInto gives every tensor's bytes as the mapping holds them, at odd
// lengths and offsets too; a view outside the file or a destination of
// another length is an error; Parse'd data is copied.
func TestReadInto(t *testing.T) {
	path := testutil.Golden(t, "llama-Q4_K_M.gguf")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range f.Tensors {
		b := f.TensorData(&f.Tensors[i])
		for _, v := range [][]byte{b, b[1 : len(b)-3]} {
			dst := make([]byte, len(v))
			if err := f.ReadInto(dst, v); err != nil {
				t.Fatalf("%s: %v", f.Tensors[i].Name, err)
			}
			if !bytes.Equal(dst, v) {
				t.Fatalf("%s: ReadInto differs from the mapping", f.Tensors[i].Name)
			}
		}
	}
	b := f.TensorData(&f.Tensors[0])
	if err := f.ReadInto(make([]byte, len(b)-1), b); err == nil {
		t.Error("length mismatch accepted")
	}
	if err := f.ReadInto(make([]byte, 8), make([]byte, 8)); err == nil {
		t.Error("memory outside the file accepted")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pb := p.TensorData(&p.Tensors[0])
	dst := make([]byte, len(pb))
	if err := p.ReadInto(dst, pb); err != nil || !bytes.Equal(dst, pb) {
		t.Errorf("Parse'd data: %v", err)
	}
}
