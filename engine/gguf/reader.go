package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"unsafe"
)

// Magic is "GGUF" read as a little-endian uint32.
const Magic = 0x46554747

// DefaultAlignment applies when general.alignment is absent.
const DefaultAlignment = 32

// Bounds on counts: far above any real model, far below what would let a
// corrupt header make us allocate without limit.
const (
	maxTensors  = 1 << 20
	maxMetaKVs  = 1 << 20
	maxDims     = 4
	maxNestings = 4
)

// ErrFormat wraps every error that is the file's fault.
var ErrFormat = errors.New("gguf")

// TensorInfo describes one tensor. Dims[0] is the row length (ggml's ne0).
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   GGMLType
	Offset uint64 // relative to the data section
	Size   uint64 // bytes
}

// Elements returns the number of elements.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows returns the number of rows (all dims but the first).
func (t *TensorInfo) Rows() uint64 { return t.Elements() / t.Dims[0] }

// File is a parsed GGUF file whose tensor data stays in the caller's (or
// the mapping's) byte slice.
type File struct {
	Version    uint32
	Meta       Metadata
	Tensors    []TensorInfo
	Alignment  uint64
	DataOffset uint64
	byName     map[string]int
	data       []byte
	unmap      func() error
	mapped     bool     // data is a read-only mapping of a file (Open), not memory the caller owns (Parse)
	fh         *os.File // the opened file (Open), for ReadInto; nil for Parse
}

// ReadInto copies b, a view into this file's data, into dst (as long as
// b) by reading the file rather than through the mapping. From the page
// cache the kernel copies with no page of the file mapped into this
// process, where reading the mapping costs a page-table entry per 4 KiB
// (about a million for a 7B model, the larger part of a warm start in a
// virtual machine); from a cold file it reads ahead sequentially. For
// data given to Parse it is a plain copy.
func (f *File) ReadInto(dst, b []byte) error {
	if len(dst) != len(b) {
		return fmt.Errorf("gguf: ReadInto of %d bytes into %d", len(b), len(dst))
	}
	if len(b) == 0 {
		return nil
	}
	if f.fh == nil || len(f.data) == 0 {
		copy(dst, b)
		return nil
	}
	lo, hi := uintptr(unsafe.Pointer(&f.data[0])), uintptr(unsafe.Pointer(&f.data[0]))+uintptr(len(f.data))
	p := uintptr(unsafe.Pointer(&b[0]))
	if p < lo || p+uintptr(len(b)) > hi {
		return fmt.Errorf("gguf: ReadInto of memory outside the file's data")
	}
	_, err := f.fh.ReadAt(dst, int64(p-lo))
	return err
}

// DontNeed releases the whole pages of b — a view into this file's data
// — from the process's resident set, where that is safe: only for a file
// mapped read-only by Open (a later read maps the pages again from the
// file). For data given to Parse it does nothing, since dropping those
// pages would lose their contents.
func (f *File) DontNeed(b []byte) error {
	if !f.mapped || len(b) == 0 || len(f.data) == 0 {
		return nil
	}
	lo, hi := uintptr(unsafe.Pointer(&f.data[0])), uintptr(unsafe.Pointer(&f.data[0]))+uintptr(len(f.data))
	p := uintptr(unsafe.Pointer(&b[0]))
	if p < lo || p+uintptr(len(b)) > hi {
		return fmt.Errorf("gguf: DontNeed on memory outside the file's mapping")
	}
	return dontNeed(b)
}

// Tensor returns the descriptor of the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns a zero-copy view of a tensor's bytes.
func (f *File) TensorData(t *TensorInfo) []byte {
	start := f.DataOffset + t.Offset
	return f.data[start : start+t.Size : start+t.Size]
}

// Size is the total byte size of the file.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Close releases the mapping. Views returned by TensorData become invalid.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap = nil
	f.data = nil
	return err
}

type decoder struct {
	b   []byte
	off uint64
}

func (d *decoder) errf(format string, a ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, d.off, fmt.Sprintf(format, a...))
}

func (d *decoder) need(n uint64, what string) error {
	if n > uint64(len(d.b))-d.off {
		return d.errf("file truncated reading %s (need %d bytes, %d left)", what, n, uint64(len(d.b))-d.off)
	}
	return nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if err := d.need(n, what); err != nil {
		return "", err
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s, nil
}

func (d *decoder) scalar(t ValueType) (any, error) {
	size := uint64(t.scalarSize())
	if err := d.need(size, t.String()+" value"); err != nil {
		return nil, err
	}
	p := d.b[d.off:]
	d.off += size
	switch t {
	case ValUint8:
		return p[0], nil
	case ValInt8:
		return int8(p[0]), nil
	case ValBool:
		if p[0] > 1 {
			d.off -= size
			return nil, d.errf("bool value %d is neither 0 nor 1", p[0])
		}
		return p[0] == 1, nil
	case ValUint16:
		return binary.LittleEndian.Uint16(p), nil
	case ValInt16:
		return int16(binary.LittleEndian.Uint16(p)), nil
	case ValUint32:
		return binary.LittleEndian.Uint32(p), nil
	case ValInt32:
		return int32(binary.LittleEndian.Uint32(p)), nil
	case ValFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(p)), nil
	case ValUint64:
		return binary.LittleEndian.Uint64(p), nil
	case ValInt64:
		return int64(binary.LittleEndian.Uint64(p)), nil
	case ValFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
	}
	return nil, d.errf("unknown value type %d", uint32(t))
}

func (d *decoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case ValString:
		return d.str("string value")
	case ValArray:
		if depth >= maxNestings {
			return nil, d.errf("arrays nested deeper than %d", maxNestings)
		}
		et, err := d.u32("array element type")
		if err != nil {
			return nil, err
		}
		n, err := d.u64("array length")
		if err != nil {
			return nil, err
		}
		return d.array(ValueType(et), n, depth)
	}
	if t.scalarSize() == 0 {
		return nil, d.errf("unknown metadata value type %d", uint32(t))
	}
	return d.scalar(t)
}

// array decodes n elements. Every element occupies at least one byte (a
// string at least eight), so n is checked against the bytes left before
// anything is allocated.
func (d *decoder) array(et ValueType, n uint64, depth int) (any, error) {
	minSize := uint64(et.scalarSize())
	switch et {
	case ValString, ValArray:
		minSize = 8
	}
	if minSize == 0 {
		return nil, d.errf("unknown array element type %d", uint32(et))
	}
	left := uint64(len(d.b)) - d.off
	if n > left/minSize {
		return nil, d.errf("array of %d %s elements is larger than the rest of the file", n, et)
	}
	arr := Array{Elem: et}
	switch et {
	case ValString:
		s := make([]string, n)
		for i := range s {
			v, err := d.str("array string")
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		arr.Values = s
	case ValArray:
		s := make([]Array, n)
		for i := range s {
			v, err := d.value(ValArray, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = v.(Array)
		}
		arr.Values = s
	default:
		vals := make([]any, n)
		for i := range vals {
			v, err := d.scalar(et)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		arr.Values = typedSlice(et, vals)
	}
	return arr, nil
}

func typedSlice(et ValueType, vals []any) any {
	switch et {
	case ValUint8:
		return convert[uint8](vals)
	case ValInt8:
		return convert[int8](vals)
	case ValUint16:
		return convert[uint16](vals)
	case ValInt16:
		return convert[int16](vals)
	case ValUint32:
		return convert[uint32](vals)
	case ValInt32:
		return convert[int32](vals)
	case ValFloat32:
		return convert[float32](vals)
	case ValBool:
		return convert[bool](vals)
	case ValUint64:
		return convert[uint64](vals)
	case ValInt64:
		return convert[int64](vals)
	case ValFloat64:
		return convert[float64](vals)
	}
	return vals
}

func convert[T any](vals []any) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = v.(T)
	}
	return out
}

// Parse parses a whole GGUF file held in data. The returned File refers
// to data; it does not copy tensor bytes.
func Parse(data []byte) (*File, error) {
	d := &decoder{b: data}
	magic, err := d.u32("magic")
	if err != nil {
		return nil, fmt.Errorf("%w: not a GGUF file: too short (%d bytes)", ErrFormat, len(data))
	}
	if magic != Magic {
		return nil, fmt.Errorf("%w: not a GGUF file: bad magic %s", ErrFormat, Quote(string(data[:4])))
	}
	f := &File{}
	if f.Version, err = d.u32("version"); err != nil {
		return nil, err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: unsupported GGUF version %d (this reader handles 2 and 3)", ErrFormat, f.Version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return nil, err
	}
	if nTensors > maxTensors {
		return nil, fmt.Errorf("%w: absurd tensor count %d", ErrFormat, nTensors)
	}
	if nKV > maxMetaKVs {
		return nil, fmt.Errorf("%w: absurd metadata count %d", ErrFormat, nKV)
	}
	for i := uint64(0); i < nKV; i++ {
		key, err := d.str("metadata key")
		if err != nil {
			return nil, err
		}
		t, err := d.u32("metadata value type of " + Quote(key))
		if err != nil {
			return nil, err
		}
		v, err := d.value(ValueType(t), 0)
		if err != nil {
			return nil, fmt.Errorf("metadata key %s: %w", Quote(key), err)
		}
		if err := f.Meta.add(KV{Key: key, Value: Value{Type: ValueType(t), V: v}}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
	}
	f.Alignment = DefaultAlignment
	if _, ok := f.Meta.Get("general.alignment"); ok {
		a, err := f.Meta.Uint("general.alignment")
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		if a == 0 || a&(a-1) != 0 || a > 1<<16 {
			return nil, fmt.Errorf("%w: general.alignment %d is not a power of two up to 65536", ErrFormat, a)
		}
		f.Alignment = a
	}
	// Each tensor descriptor takes at least 8+4+8+4+8 bytes.
	if nTensors > (uint64(len(data))-d.off)/32 {
		return nil, d.errf("tensor count %d does not fit in the file", nTensors)
	}
	f.Tensors = make([]TensorInfo, nTensors)
	f.byName = make(map[string]int, nTensors)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if err := readTensorInfo(d, t); err != nil {
			return nil, err
		}
		if _, dup := f.byName[t.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate tensor name %s", ErrFormat, Quote(t.Name))
		}
		f.byName[t.Name] = i
	}
	f.DataOffset = alignUp(d.off, f.Alignment)
	if f.DataOffset > uint64(len(data)) {
		return nil, fmt.Errorf("%w: file truncated before the tensor data section", ErrFormat)
	}
	if err := f.checkLayout(uint64(len(data)) - f.DataOffset); err != nil {
		return nil, err
	}
	f.data = data
	return f, nil
}

func readTensorInfo(d *decoder, t *TensorInfo) error {
	var err error
	if t.Name, err = d.str("tensor name"); err != nil {
		return err
	}
	nd, err := d.u32("dimension count of tensor " + Quote(t.Name))
	if err != nil {
		return err
	}
	if nd == 0 || nd > maxDims {
		return fmt.Errorf("%w: tensor %s has %d dimensions (1..%d allowed)", ErrFormat, Quote(t.Name), nd, maxDims)
	}
	t.Dims = make([]uint64, nd)
	elems := uint64(1)
	for j := range t.Dims {
		if t.Dims[j], err = d.u64("dimension of tensor " + Quote(t.Name)); err != nil {
			return err
		}
		if t.Dims[j] == 0 || t.Dims[j] > 1<<40 || elems > (1<<50)/t.Dims[j] {
			return fmt.Errorf("%w: tensor %s has absurd shape %v", ErrFormat, Quote(t.Name), t.Dims[:j+1])
		}
		elems *= t.Dims[j]
	}
	typ, err := d.u32("type of tensor " + Quote(t.Name))
	if err != nil {
		return err
	}
	t.Type = GGMLType(typ)
	if !t.Type.Supported() {
		return fmt.Errorf("%w: tensor %s has type %s, which this engine does not support (supported: %s)",
			ErrFormat, Quote(t.Name), t.Type, supportedList())
	}
	rowBytes, err := t.Type.RowBytes(t.Dims[0])
	if err != nil {
		return fmt.Errorf("%w: tensor %s: %v", ErrFormat, Quote(t.Name), err)
	}
	t.Size = rowBytes * (elems / t.Dims[0])
	if t.Offset, err = d.u64("data offset of tensor " + Quote(t.Name)); err != nil {
		return err
	}
	return nil
}

// checkLayout verifies that every tensor is aligned, inside the data
// section and disjoint from the others.
func (f *File) checkLayout(dataLen uint64) error {
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	var end uint64
	for k, i := range order {
		t := &f.Tensors[i]
		if t.Offset%f.Alignment != 0 {
			return fmt.Errorf("%w: tensor %s offset %d is not aligned to %d", ErrFormat, Quote(t.Name), t.Offset, f.Alignment)
		}
		if t.Offset > dataLen || t.Size > dataLen-t.Offset {
			return fmt.Errorf("%w: tensor %s (%d bytes at data offset %d) lies past the end of the file (data section is %d bytes): file truncated?",
				ErrFormat, Quote(t.Name), t.Size, t.Offset, dataLen)
		}
		if k > 0 && t.Offset < end {
			return fmt.Errorf("%w: tensor %s overlaps tensor %s", ErrFormat, Quote(t.Name), Quote(f.Tensors[order[k-1]].Name))
		}
		end = t.Offset + t.Size
	}
	return nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }
