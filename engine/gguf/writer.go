package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TensorSpec declares a tensor to be written: its data follows in order.
type TensorSpec struct {
	Name string
	Dims []uint64
	Type GGMLType
}

// Bytes is the size of the tensor's data.
func (t TensorSpec) Bytes() (uint64, error) {
	size, err := t.Type.RowBytes(t.Dims[0])
	for _, d := range t.Dims[1:] {
		size *= d
	}
	return size, err
}

// Writer streams a GGUF v3 file: the header and all descriptors first,
// then each tensor's data in declaration order, so a model of any size is
// written with memory bounded by one tensor (or less: WriteTensor may be
// called in pieces through TensorWriter).
type Writer struct {
	w         *bufio.Writer
	specs     []TensorSpec
	sizes     []uint64
	align     uint64
	next      int    // index of the tensor being written
	written   uint64 // bytes of the current tensor written so far
	pos       uint64 // bytes written to the file so far
	finalized bool
}

// NewWriter writes the header, metadata and tensor descriptors.
// general.alignment from meta is honoured (default 32).
func NewWriter(out io.Writer, meta []KV, tensors []TensorSpec) (*Writer, error) {
	w := &Writer{w: bufio.NewWriterSize(out, 1<<20), specs: tensors, align: DefaultAlignment}
	for _, kv := range meta {
		if kv.Key == "general.alignment" {
			if a, ok := kv.Value.V.(uint32); ok && a > 0 && a&(a-1) == 0 {
				w.align = uint64(a)
			} else {
				return nil, fmt.Errorf("general.alignment must be a uint32 power of two")
			}
		}
	}
	w.u32(Magic)
	w.u32(3)
	w.u64(uint64(len(tensors)))
	w.u64(uint64(len(meta)))
	for _, kv := range meta {
		w.str(kv.Key)
		w.u32(uint32(kv.Value.Type))
		if err := w.value(kv.Value.Type, kv.Value.V); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", kv.Key, err)
		}
	}
	var off uint64
	for _, t := range tensors {
		if len(t.Dims) == 0 || len(t.Dims) > maxDims {
			return nil, fmt.Errorf("tensor %q: %d dimensions", t.Name, len(t.Dims))
		}
		size, err := t.Bytes()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		w.str(t.Name)
		w.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			w.u64(d)
		}
		w.u32(uint32(t.Type))
		w.u64(off)
		w.sizes = append(w.sizes, size)
		off = alignUp(off+size, w.align)
	}
	w.pad()
	return w, nil
}

// Write appends bytes of the current tensor; a tensor may be written in
// several pieces. Implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if w.next >= len(w.specs) {
			return n, fmt.Errorf("gguf writer: more data than the declared tensors hold")
		}
		left := w.sizes[w.next] - w.written
		k := uint64(len(p))
		if k > left {
			k = left
		}
		m, err := w.w.Write(p[:k])
		n += m
		w.pos += uint64(m)
		w.written += uint64(m)
		if err != nil {
			return n, err
		}
		p = p[k:]
		if w.written == w.sizes[w.next] {
			w.next++
			w.written = 0
			w.pad()
		}
	}
	return n, nil
}

// Finish checks that every tensor was written in full and flushes.
func (w *Writer) Finish() error {
	if w.next != len(w.specs) {
		return fmt.Errorf("gguf writer: tensor %q incomplete (%d of %d tensors written)", w.specs[min(w.next, len(w.specs)-1)].Name, w.next, len(w.specs))
	}
	w.finalized = true
	return w.w.Flush()
}

func (w *Writer) pad() {
	for w.pos%w.align != 0 {
		w.w.WriteByte(0)
		w.pos++
	}
}

func (w *Writer) u32(v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	w.w.Write(b[:])
	w.pos += 4
}

func (w *Writer) u64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.w.Write(b[:])
	w.pos += 8
}

func (w *Writer) str(s string) {
	w.u64(uint64(len(s)))
	w.w.WriteString(s)
	w.pos += uint64(len(s))
}

func (w *Writer) value(t ValueType, v any) error {
	switch t {
	case ValString:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("value %T is not a string", v)
		}
		w.str(s)
		return nil
	case ValArray:
		a, ok := v.(Array)
		if !ok {
			return fmt.Errorf("value %T is not an Array", v)
		}
		w.u32(uint32(a.Elem))
		w.u64(uint64(a.Len()))
		switch s := a.Values.(type) {
		case []string:
			for _, x := range s {
				w.str(x)
			}
		case []Array:
			for _, x := range s {
				if err := w.value(ValArray, x); err != nil {
					return err
				}
			}
		default:
			if err := binary.Write(w.w, binary.LittleEndian, s); err != nil {
				return fmt.Errorf("array of %s: %w", a.Elem, err)
			}
			w.pos += uint64(a.Len() * a.Elem.scalarSize())
		}
		return nil
	}
	var b [8]byte
	size := t.scalarSize()
	switch x := v.(type) {
	case uint8:
		b[0] = x
	case int8:
		b[0] = byte(x)
	case bool:
		if x {
			b[0] = 1
		}
	case uint16:
		binary.LittleEndian.PutUint16(b[:], x)
	case int16:
		binary.LittleEndian.PutUint16(b[:], uint16(x))
	case uint32:
		binary.LittleEndian.PutUint32(b[:], x)
	case int32:
		binary.LittleEndian.PutUint32(b[:], uint32(x))
	case float32:
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
	case uint64:
		binary.LittleEndian.PutUint64(b[:], x)
	case int64:
		binary.LittleEndian.PutUint64(b[:], uint64(x))
	case float64:
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
	default:
		return fmt.Errorf("unsupported value %T", v)
	}
	if size == 0 {
		return fmt.Errorf("unknown value type %d", t)
	}
	w.w.Write(b[:size])
	w.pos += uint64(size)
	return nil
}

// Helpers to build metadata values.
func U32(v uint32) Value     { return Value{ValUint32, v} }
func I32(v int32) Value      { return Value{ValInt32, v} }
func F32(v float32) Value    { return Value{ValFloat32, v} }
func Str(v string) Value     { return Value{ValString, v} }
func Bool(v bool) Value      { return Value{ValBool, v} }
func Strs(v []string) Value  { return Value{ValArray, Array{ValString, v}} }
func F32s(v []float32) Value { return Value{ValArray, Array{ValFloat32, v}} }
func I32s(v []int32) Value   { return Value{ValArray, Array{ValInt32, v}} }

// AtomicFile is an output file written under a temporary name and renamed
// into place on Commit, so an interrupted run never leaves a partial file
// under the final name.
type AtomicFile struct {
	*os.File
	final string
	done  bool
}

// CreateAtomic creates a temporary file beside path, named
// .BASE.tmp-PID-RANDOM. Temporary files of the same path left by a
// process that no longer runs (a killed quantize or mock: up to the
// model's size each) are removed first.
func CreateAtomic(path string) (*AtomicFile, error) {
	dir := filepath.Dir(path)
	prefix := "." + filepath.Base(path) + ".tmp-"
	removeStaleTemps(dir, prefix)
	f, err := os.CreateTemp(dir, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{File: f, final: path}, nil
}

// removeStaleTemps deletes dir/PREFIX<pid>-* files whose writer has
// exited. Files without a pid in their name (an older version's) are
// left alone: whether their writer runs cannot be told.
func removeStaleTemps(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processRunning(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// Commit syncs, closes and renames the file into place.
func (a *AtomicFile) Commit() error {
	if err := a.File.Sync(); err != nil {
		a.Abort()
		return err
	}
	if err := a.File.Close(); err != nil {
		os.Remove(a.File.Name())
		return err
	}
	a.done = true
	// CreateTemp makes the file 0600; a model is an ordinary readable file.
	os.Chmod(a.File.Name(), 0o644)
	if err := os.Rename(a.File.Name(), a.final); err != nil {
		return err
	}
	_ = Settle(a.final) // read afresh at first use (see Settle); advice only
	return nil
}

// Abort removes the temporary file; a no-op after Commit.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}
