package vidurfmt

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// csvFile is a CSV stream read with its header, so that cells are found by column
// name and every error can name the file, the line and the column.
type csvFile struct {
	name   string
	r      *csv.Reader
	header []string
	cols   map[string]int
	line   int // line of the record last returned by next
}

// openCSV reads the header of r. name is what errors call the file.
func openCSV(r io.Reader, name string) (*csvFile, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file, want a header line", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &csvFile{name: name, r: cr, header: append([]string(nil), head...), cols: map[string]int{}, line: 1}
	for i, h := range f.header {
		h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark some tools write
		f.header[i] = h
		if _, dup := f.cols[h]; dup && h != "" {
			return nil, fmt.Errorf("%s:1: column %q appears twice", name, h)
		}
		f.cols[h] = i
	}
	return f, nil
}

// has reports whether the header names col.
func (f *csvFile) has(col string) bool {
	_, ok := f.cols[col]
	return ok
}

// index returns the position of each named column, or an error naming the first one
// the header lacks.
func (f *csvFile) index(cols ...string) ([]int, error) {
	out := make([]int, len(cols))
	for i, c := range cols {
		j, ok := f.cols[c]
		if !ok {
			return nil, fmt.Errorf("%s:1: missing column %q", f.name, c)
		}
		out[i] = j
	}
	return out, nil
}

// next returns the next record, or io.EOF after the last one. The slice is reused.
func (f *csvFile) next() ([]string, error) {
	rec, err := f.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	f.line, _ = f.r.FieldPos(0)
	return rec, nil
}

// errf is an error about column col of the current record.
func (f *csvFile) errf(col string, format string, args ...any) error {
	return fmt.Errorf("%s:%d: column %q: %s", f.name, f.line, col, fmt.Sprintf(format, args...))
}

// float parses a cell; an empty cell (pandas' NaN) is an error.
func (f *csvFile) float(rec []string, i int) (float64, error) {
	v, err := strconv.ParseFloat(rec[i], 64)
	if err != nil {
		return 0, f.errf(f.header[i], "%q is not a number", rec[i])
	}
	return v, nil
}

// floatOrNaN parses a cell, giving NaN for an empty one.
func (f *csvFile) floatOrNaN(rec []string, i int) (float64, error) {
	if rec[i] == "" {
		return math.NaN(), nil
	}
	return f.float(rec, i)
}

// integer parses a cell holding an integer, written either as one ("64") or as an
// integral float ("64.0", which pandas writes for a column that once held a NaN).
func (f *csvFile) integer(rec []string, i int) (int, error) {
	s := rec[i]
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, f.errf(f.header[i], "%q is not an integer", s)
	}
	return int(v), nil
}

// boolean parses Python's True/False (and the lower-case and 0/1 spellings).
func (f *csvFile) boolean(rec []string, i int) (bool, error) {
	switch rec[i] {
	case "True", "true", "1", "1.0":
		return true, nil
	case "False", "false", "0", "0.0":
		return false, nil
	}
	return false, f.errf(f.header[i], "%q is not a boolean (want True or False)", rec[i])
}
