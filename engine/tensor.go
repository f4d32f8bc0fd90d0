package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/hugemem"
	"asdsl-bench/kernels"
)

// Matrix is a 2-D weight tensor viewed in place in the mapped file:
// Rows rows of Cols elements, each row RowBytes bytes of Type.
type Matrix struct {
	Name     string
	Type     gguf.GGMLType
	Rows     int
	Cols     int
	RowBytes int
	Data     []byte
	// Q4KR4 is the matrix repacked four rows at a time (kernels.BlockQ4KR4;
	// Q4_K with rows a multiple of 4), or nil: decode's GEMV and the
	// batches' repacked GEMM read it. Data stays for panels and row lookups.
	Q4KR4 []kernels.BlockQ4KR4
	// Q6KR4 is the same for Q6_K matrices (kernels.BlockQ6KR4), or nil.
	Q6KR4 []kernels.BlockQ6KR4
	// packed: the file holds the matrix only repacked (a file written by
	// `asdsl-bench repack`): Q4KR4 or Q6KR4 view the mapping and Data is
	// nil until a path that reads the GGUF layout needs it (unpack).
	packed bool
	// releaseRepack frees Q4KR4/Q6KR4's memory when RepackR4 allocated it;
	// nil when none or when the owner (a Model's arena) frees it.
	releaseRepack func()
}

// RepackR4 fills Q4KR4 (Q4_K) or Q6KR4 (Q6_K) for a matrix whose rows come in
// fours, on all cores, in memory of its own (see RepackInto); other
// matrices are left as they are. Not safe to call while the matrix is in
// use.
func (m *Matrix) RepackR4() {
	n := m.RepackBytes()
	if n == 0 {
		return
	}
	b, release := hugemem.Alloc(n)
	m.releaseRepack = release
	// The memory is off the Go heap: Release frees it, and so does this
	// cleanup if the Matrix is dropped without one (release is
	// idempotent).
	runtime.AddCleanup(m, func(f func()) { f() }, release)
	m.RepackInto(b)
}

// RepackBytes is the size of the repacked copy RepackInto would write:
// 0 when the matrix is not repacked (not Q4_K/Q6_K, rows not in fours,
// already repacked, or no kernel on this ISA reads repacked Q6_K).
func (m *Matrix) RepackBytes() int {
	if m.Rows%4 != 0 || m.Q4KR4 != nil || m.Q6KR4 != nil {
		return 0
	}
	blocks := m.Rows / 4 * (m.Cols / kernels.QK_K)
	switch m.Type {
	case gguf.TypeQ4_K:
		return blocks * kernels.BlockQ4KR4Size
	case gguf.TypeQ6_K:
		if kernels.Active().GemvQ6KR4Q8K4x1 == nil {
			return 0 // no kernel reads it on this ISA: save the memory
		}
		return blocks * kernels.BlockQ6KR4Size
	}
	return 0
}

// RepackInto writes the repacked copy into b (len RepackBytes(), which
// the caller owns and must keep for the matrix's life) and points Q4KR4 or
// Q6KR4 at it. Decode streams this copy every token: callers give it
// hugemem memory so it sits in 2 MiB pages where the OS allows.
func (m *Matrix) RepackInto(b []byte) {
	if n := m.RepackBytes(); n == 0 || len(b) != n {
		panic(fmt.Sprintf("engine: repack of %s into %d bytes, needs %d", m.Name, len(b), n)) // caller bug
	}
	nb := m.Cols / kernels.QK_K
	groups := m.Rows / 4
	switch m.Type {
	case gguf.TypeQ4_K:
		r4, src := kernels.AsQ4KR4(b), kernels.AsQ4K(m.Data)
		forGroups(groups, func(g int) { kernels.RepackQ4KR4(src[4*g*nb:4*(g+1)*nb], r4[g*nb:(g+1)*nb]) })
		m.Q4KR4 = r4
	case gguf.TypeQ6_K:
		r6, src := kernels.AsQ6KR4(b), kernels.AsQ6K(m.Data)
		forGroups(groups, func(g int) { kernels.RepackQ6KR4(src[4*g*nb:4*(g+1)*nb], r6[g*nb:(g+1)*nb]) })
		m.Q6KR4 = r6
	}
}

// Release drops the repacked copy (Q4KR4/Q6KR4), freeing it if RepackR4
// allocated it; the matrix then reads Data again. Not safe to call while
// the matrix is in use.
func (m *Matrix) Release() {
	if m.packed {
		return // views of the file: the mapping goes with it
	}
	m.Q4KR4, m.Q6KR4 = nil, nil
	if m.releaseRepack != nil {
		m.releaseRepack()
		m.releaseRepack = nil
	}
}

// forGroups runs f(0..n-1) on all cores, in runs of 64.
func forGroups(n int, f func(g int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				g0 := int(next.Add(64)) - 64
				if g0 >= n {
					return
				}
				for g := g0; g < min(g0+64, n); g++ {
					f(g)
				}
			}
		}()
	}
	wg.Wait()
}

// Row returns row i's raw bytes.
func (m *Matrix) Row(i int) []byte { return m.Data[i*m.RowBytes : (i+1)*m.RowBytes] }

// Rows4 is rows i..i+3 as one slice (rows are contiguous).
func (m *Matrix) Rows4(i int) []byte { return m.Data[i*m.RowBytes : (i+4)*m.RowBytes] }

// Bytes is the matrix's size in the file.
func (m *Matrix) Bytes() int64 { return int64(m.Rows) * int64(m.RowBytes) }

// mapped is the matrix's bytes in the file, in whichever layout the file
// holds (for the prefetch thread's advice).
func (m *Matrix) mapped() []byte {
	switch {
	case !m.packed:
		return m.Data
	case m.Q4KR4 != nil:
		return kernels.BytesOf(m.Q4KR4)
	}
	return kernels.BytesOf(m.Q6KR4)
}

// unpack gives a packed matrix its GGUF layout as well, in memory of its
// own, on all cores (for the paths that read Data: the GGUF-layout
// kernels of Features.NoRepack and of tables without repacked GEMMs).
func (m *Matrix) unpack() {
	if !m.packed || m.Data != nil {
		return
	}
	data := make([]byte, m.Rows*m.RowBytes)
	nb := m.Cols / kernels.QK_K
	if m.Q4KR4 != nil {
		dst := kernels.AsQ4K(data)
		forGroups(m.Rows/4, func(g int) { kernels.UnrepackQ4KR4(m.Q4KR4[g*nb:(g+1)*nb], dst[4*g*nb:4*(g+1)*nb]) })
	} else {
		dst := kernels.AsQ6K(data)
		forGroups(m.Rows/4, func(g int) { kernels.UnrepackQ6KR4(m.Q6KR4[g*nb:(g+1)*nb], dst[4*g*nb:4*(g+1)*nb]) })
	}
	m.Data = data
}

// DequantRow decodes row i into out (len Cols).
func (m *Matrix) DequantRow(i int, out []float32) {
	r := m.Row(i)
	switch m.Type {
	case gguf.TypeF32:
		copy(out, kernels.AsF32(r))
	case gguf.TypeF16:
		kernels.DequantF16(kernels.AsU16(r), out)
	case gguf.TypeBF16:
		kernels.DequantBF16(kernels.AsU16(r), out)
	case gguf.TypeQ8_0:
		kernels.DequantQ8_0(kernels.AsQ8_0(r), out)
	case gguf.TypeQ4_K:
		kernels.DequantQ4K(kernels.AsQ4K(r), out)
	case gguf.TypeQ5_K:
		kernels.DequantQ5K(kernels.AsQ5K(r), out)
	case gguf.TypeQ6_K:
		kernels.DequantQ6K(kernels.AsQ6K(r), out)
	default:
		panic("unreachable: types are validated by the reader")
	}
}

// tensorLoader fetches tensors by name with shape checks, so that a file
// with the right names but wrong shapes is refused with a clear message.
type tensorLoader struct {
	f    *gguf.File
	used map[string]bool
}

func (l *tensorLoader) has(name string) bool {
	_, ok := l.f.Tensor(name)
	return ok
}

// matrix loads a [rows][cols] matrix (GGUF dims {cols, rows}).
func (l *tensorLoader) matrix(name string, cols, rows int) (*Matrix, error) {
	t, ok := l.f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("tensor %q is missing", name)
	}
	if len(t.Dims) != 2 || t.Dims[0] != uint64(cols) || t.Dims[1] != uint64(rows) {
		return nil, fmt.Errorf("tensor %q has shape %v, want [%d %d]", name, t.Dims, cols, rows)
	}
	l.used[name] = true
	rb, _ := t.Type.RowBytes(t.Dims[0])
	m := &Matrix{Name: name, Type: t.Type.Unpacked(), Rows: rows, Cols: cols, RowBytes: int(rb)}
	if m.Type == t.Type {
		m.Data = l.f.TensorData(t)
		return m, nil
	}
	if rows%4 != 0 {
		return nil, fmt.Errorf("tensor %q: %s needs rows in fours, it has %d", name, t.Type, rows)
	}
	m.packed = true
	if m.Type == gguf.TypeQ4_K {
		m.Q4KR4 = kernels.AsQ4KR4(l.f.TensorData(t))
	} else {
		m.Q6KR4 = kernels.AsQ6KR4(l.f.TensorData(t))
	}
	return m, nil
}

// vector loads a 1-D tensor of n elements as float32 (norm weights),
// decoding it once at load.
func (l *tensorLoader) vector(name string, n int) ([]float32, error) {
	t, ok := l.f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("tensor %q is missing", name)
	}
	if len(t.Dims) != 1 || t.Dims[0] != uint64(n) {
		return nil, fmt.Errorf("tensor %q has shape %v, want [%d]", name, t.Dims, n)
	}
	if t.Type.Unpacked() != t.Type {
		return nil, fmt.Errorf("tensor %q: a vector cannot be %s", name, t.Type)
	}
	l.used[name] = true
	rb, _ := t.Type.RowBytes(t.Dims[0])
	m := &Matrix{Name: name, Type: t.Type, Rows: 1, Cols: n, RowBytes: int(rb), Data: l.f.TensorData(t)}
	out := make([]float32, n)
	m.DequantRow(0, out)
	return out, nil
}
