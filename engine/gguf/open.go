package gguf

import (
	"fmt"
	"os"
)

// Open memory-maps a GGUF file read-only and parses it. Tensor views stay
// valid until Close.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			fh.Close()
		}
	}()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a GGUF file", path)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%s: %w: empty file", path, ErrFormat)
	}
	data, unmap, err := mapFile(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: mapping file: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ok = true
	f.fh = fh // for ReadInto; closed with the mapping
	f.unmap = func() error {
		err := unmap()
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		return err
	}
	f.mapped = mapsFiles
	return f, nil
}
