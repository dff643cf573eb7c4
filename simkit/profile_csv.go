package simkit

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// csvTable is one profile CSV read whole, with the line of every row for messages.
type csvTable struct {
	path  string
	cols  map[string]int
	names []string
	rows  [][]string
	lines []int
}

func readCSV(fsys fs.FS, path string) (*csvTable, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file, expected a header line", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &csvTable{path: path, cols: map[string]int{}, names: header}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if _, dup := t.cols[h]; dup && h != "" {
			return nil, fmt.Errorf("%s line 1, column %d: duplicate column %q", path, i+1, h)
		}
		t.cols[h] = i
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	return t, nil
}

func (t *csvTable) has(col string) bool { _, ok := t.cols[col]; return ok }

// require reports the first of cols that the header lacks.
func (t *csvTable) require(cols ...string) error {
	for _, c := range cols {
		if !t.has(c) {
			return fmt.Errorf("%s: missing column %q", t.path, c)
		}
	}
	return nil
}

func (t *csvTable) cellErr(row int, col, format string, args ...any) error {
	return fmt.Errorf("%s line %d, column %d (%s): %s",
		t.path, t.lines[row], t.cols[col]+1, col, fmt.Sprintf(format, args...))
}

// num parses a non-negative finite number.
func (t *csvTable) num(row int, col string) (float64, error) {
	s := strings.TrimSpace(t.rows[row][t.cols[col]])
	if s == "" {
		return 0, t.cellErr(row, col, "empty, expected a number")
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		return 0, t.cellErr(row, col, "%q is not a number", s)
	case math.IsNaN(v):
		return 0, t.cellErr(row, col, "NaN is not a time or size")
	case math.IsInf(v, 0):
		return 0, t.cellErr(row, col, "%q is not finite", s)
	case v < 0:
		return 0, t.cellErr(row, col, "%g is negative", v)
	}
	return v, nil
}

// str is the trimmed text of a cell.
func (t *csvTable) str(row int, col string) string {
	return strings.TrimSpace(t.rows[row][t.cols[col]])
}

// keepRow filters rows on an optional integer column (e.g. the tensor-parallel degree):
// rows whose value differs from want are skipped, as Vidur filters its profiles.
func (t *csvTable) keepRow(row int, col string, want int) (bool, error) {
	if !t.has(col) {
		return true, nil
	}
	v, err := t.num(row, col)
	if err != nil {
		return false, err
	}
	return v == float64(want), nil
}

// checkModelColumn refuses a row whose optional model-shape column disagrees with the
// bundle's model.
func (t *csvTable) checkModelColumn(row int, col, field string, want int) error {
	if !t.has(col) {
		return nil
	}
	v, err := t.num(row, col)
	if err != nil {
		return err
	}
	if v != float64(want) {
		return t.cellErr(row, col, "%g, but provenance model.%s is %d", v, field, want)
	}
	return nil
}
