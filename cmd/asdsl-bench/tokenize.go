package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/tokenizer"
)

// tokenizeOut is where tokenize writes (a test replaces it).
var tokenizeOut io.Writer = os.Stdout

// runTokenize prints what the engine's tokenizer makes of text, in the
// forms llama.cpp's tools print, so the two can be compared with diff.
func runTokenize(args []string) error {
	fs := newFlags("tokenize", "tokenize -m MODEL (-p TEXT | -f FILE [--jsonl]) [--ids] [--no-bos] [--parse-special]")
	model := fs.String("m", "", "GGUF model or vocabulary-only GGUF (required; only its tokenizer.ggml.* keys are read)")
	prompt := fs.String("p", "", "text to tokenize")
	file := fs.String("f", "", "file to tokenize: its whole text, or with --jsonl one {\"text\": ...} object per line")
	jsonl := fs.Bool("jsonl", false, "with -f: read {\"text\": ...} lines and write {\"text\": ..., \"ids\": [...]} lines in the same order")
	idsOnly := fs.Bool("ids", false, "print only the ids, as llama-tokenize --ids: [1, 15043, 3186]")
	noBOS := fs.Bool("no-bos", false, "do not add the BOS/EOS tokens the vocabulary asks for (llama_tokenize's add_special=false)")
	parseSpecial := fs.Bool("parse-special", false, "let control-token text such as \"</s>\" become that token")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return usagef("-m is required: a GGUF model or a vocabulary-only GGUF")
	}
	if (*prompt == "") == (*file == "") && !flagSet(fs, "p") {
		return usagef("give exactly one of -p TEXT or -f FILE")
	}
	if flagSet(fs, "p") && *file != "" {
		return usagef("give exactly one of -p TEXT or -f FILE")
	}
	if *jsonl && *file == "" {
		return usagef("--jsonl reads a file: give -f FILE")
	}
	f, err := gguf.Open(*model)
	if err != nil {
		return err
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(&f.Meta)
	if err != nil {
		return fmt.Errorf("%s: tokenizer: %w", *model, err)
	}
	out := bufio.NewWriter(tokenizeOut)
	defer out.Flush()
	encode := func(text string) []int32 { return tok.Encode(text, !*noBOS, *parseSpecial) }
	if *jsonl {
		in, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer in.Close()
		if err := tokenizeJSONL(in, out, encode); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		return out.Flush()
	}
	text := *prompt
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		text = string(b)
	}
	ids := encode(text)
	fmt.Fprintln(out, formatIDs(ids))
	if !*idsOnly {
		for _, id := range ids {
			piece := tok.Piece(id)
			if piece == "" { // a control token prints as its text
				piece = tok.Vocab().Tokens[id]
			}
			fmt.Fprintf(out, "%6d -> '%s'\n", id, piece)
		}
	}
	return out.Flush()
}

// formatIDs writes ids as llama-tokenize --ids does: [1, 2, 3].
func formatIDs(ids []int32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
	b.WriteByte(']')
	return b.String()
}

// tokenizeJSONL reads {"text": ...} lines and writes {"text": ...,
// "ids": [...]} lines, one for one; a line that is not such an object is
// an error naming its number.
func tokenizeJSONL(in io.Reader, out io.Writer, encode func(string) []int32) error {
	r := bufio.NewReader(in)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var rec struct {
				Text *string `json:"text"`
			}
			if jerr := json.Unmarshal(b, &rec); jerr != nil {
				return fmt.Errorf("line %d: %v", line, jerr)
			}
			if rec.Text == nil {
				return fmt.Errorf("line %d: no \"text\" field", line)
			}
			if werr := enc.Encode(struct {
				Text string  `json:"text"`
				IDs  []int32 `json:"ids"`
			}{*rec.Text, nonNil(encode(*rec.Text))}); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}
