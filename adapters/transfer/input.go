package transfer

import (
	"bytes"
	"fmt"
	"io"
)

// readChunk is how much input is read at once.
const readChunk = 32 << 10

// input wraps a reader's source: it counts bytes to refuse a file over
// MaxBytes, refuses a row that grows past MaxRowBytes before it is buffered
// whole (the row started at rowStart, which the reader moves on), and
// remembers where the newlines of the bytes not yet consumed are, so that a
// byte offset can be turned into a line.
type input struct {
	r        io.Reader
	maxBytes int64
	maxRow   int64
	read     int64 // bytes handed out so far
	rowStart int64 // offset where the row being read starts
	rowLine  int   // its line
	lines    bool  // track newlines (JSON)
	nl       []int64
	nlBase   int   // line of offset nlFrom
	nlFrom   int64 // offsets below this are counted into nlBase
	err      error // the limit error returned, once
}

func newInput(r io.Reader, lim Limits, trackLines bool) *input {
	// The row guard lets a decoder read a chunk past the row's end.
	return &input{r: r, maxBytes: lim.MaxBytes, maxRow: int64(lim.MaxRowBytes) + 2*readChunk, lines: trackLines, nlBase: 1, rowLine: 1}
}

func (in *input) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	n, err := in.r.Read(p)
	in.read += int64(n)
	if in.read > in.maxBytes {
		in.err = &FileError{Msg: fmt.Sprintf("the file is larger than %d bytes", in.maxBytes), Err: ErrTooLarge}
		return 0, in.err
	}
	if in.read-in.rowStart > in.maxRow {
		in.err = &FileError{Line: in.rowLine, Msg: fmt.Sprintf("the row starting here is longer than %d bytes", in.maxRow-2*readChunk), Err: ErrRowTooLong}
		return 0, in.err
	}
	if in.lines {
		base := in.read - int64(n)
		for i, b := 0, p[:n]; ; {
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				break
			}
			in.nl = append(in.nl, base+int64(i+j))
			i += j + 1
		}
	}
	return n, err
}

// lineAt is the 1-based line of byte offset off. Offsets must not go back
// below one asked before (the newlines before it are forgotten).
func (in *input) lineAt(off int64) int {
	n := 0
	for n < len(in.nl) && in.nl[n] < off {
		n++
	}
	if n > 0 {
		in.nlBase += n
		in.nl = in.nl[n:]
		if len(in.nl) == 0 {
			in.nl = nil
		}
	}
	if off > in.nlFrom {
		in.nlFrom = off
	}
	return in.nlBase
}

// startRow says a row starts at offset off, on line line: the row guard
// counts from there.
func (in *input) startRow(off int64, line int) {
	in.rowStart, in.rowLine = off, line
}

// utf8BOM is the byte order mark some Windows programs put before UTF-8.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// skipBOM returns a reader without the BOM at the start of r, if any.
func skipBOM(r io.Reader) io.Reader {
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if n == 3 && bytes.Equal(head[:], utf8BOM) {
		return r
	}
	rest := io.MultiReader(bytes.NewReader(append([]byte(nil), head[:n]...)), r)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return io.MultiReader(bytes.NewReader(head[:n]), errReader{err})
	}
	return rest
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
