package vidurfmt

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// numericRow is one data line of a numeric CSV (Vidur's prediction tables) as
// scanNumericCSV hands it over: its fields, and what errors need to name it.
type numericRow struct {
	name   string
	header []string
	line   int
	fields [][]byte
}

// errf is an error about field i of the row: file, line and column named.
func (f *numericRow) errf(i int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: column %q: %s", f.name, f.line, f.header[i], fmt.Sprintf(format, args...))
}

// integer parses field i holding an integer, written either as one ("64") or as an
// integral float ("64.0", which pandas writes for a column that once held a NaN).
func (f *numericRow) integer(i int) (int, error) {
	b := f.fields[i]
	if n, ok := atoiDigits(b); ok {
		return n, nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, f.errf(i, "%q is not an integer", b)
	}
	return int(v), nil
}

// prediction parses a predicted time in milliseconds: finite. A negative value is
// kept, since Vidur's polynomial predictor can produce one and uses it as it is.
func (f *numericRow) prediction(i int) (float64, error) {
	v, err := strconv.ParseFloat(string(f.fields[i]), 64)
	if err != nil {
		return 0, f.errf(i, "%q is not a number", f.fields[i])
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, f.errf(i, "%v is not a finite time", v)
	}
	return v, nil
}

// atoiDigits parses an optionally signed run of at most 18 decimal digits.
func atoiDigits(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// scanNumericCSV reads a CSV of numbers whose header must be exactly cols (as pandas
// writes Vidur's prediction tables: no quoting, one value per cell) and calls row for
// each data line; empty lines are skipped, as encoding/csv does. It allocates nothing
// per cell: prediction tables have hundreds of thousands of rows.
func scanNumericCSV(data []byte, name string, cols []string, row func(*numericRow) error) error {
	body, err := numericBody(data, name, cols)
	if err != nil {
		return err
	}
	return scanNumericLines(body, name, cols, 1, row)
}

// numericBody checks the header line of data and returns what follows it.
func numericBody(data []byte, name string, cols []string) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file, want a header line", name)
	}
	head, rest, _ := bytes.Cut(data, []byte{'\n'})
	if got := string(bytes.TrimSuffix(head, []byte{'\r'})); got != strings.Join(cols, ",") {
		return nil, fmt.Errorf("%s:1: header is %q, want %q", name, got, strings.Join(cols, ","))
	}
	return rest, nil
}

// splitLines cuts body into at most n pieces at line ends, with the line number of
// each piece's first line when body starts after line firstLine.
func splitLines(body []byte, n, firstLine int) (pieces [][]byte, lines []int) {
	line := firstLine
	for i := n; i > 1 && len(body) > 0; i-- {
		cut := len(body) / i
		nl := bytes.IndexByte(body[cut:], '\n')
		if nl < 0 {
			break
		}
		pieces, lines = append(pieces, body[:cut+nl+1]), append(lines, line)
		line += bytes.Count(body[:cut+nl+1], []byte{'\n'})
		body = body[cut+nl+1:]
	}
	return append(pieces, body), append(lines, line)
}

// scanNumericLines scans data lines (see scanNumericCSV); the first follows line
// number afterLine.
func scanNumericLines(body []byte, name string, cols []string, afterLine int, row func(*numericRow) error) error {
	f := &numericRow{name: name, header: cols, line: afterLine, fields: make([][]byte, len(cols))}
	rest := body
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		f.line++
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		n := 0
		for {
			field, after, more := bytes.Cut(line, []byte{','})
			if n == len(cols) {
				return fmt.Errorf("%s:%d: more than %d fields, want %s", name, f.line, len(cols), strings.Join(cols, ","))
			}
			f.fields[n] = field
			n++
			if !more {
				break
			}
			line = after
		}
		if n != len(cols) {
			return fmt.Errorf("%s:%d: %d fields, want %d (%s)", name, f.line, n, len(cols), strings.Join(cols, ","))
		}
		if err := row(f); err != nil {
			return err
		}
	}
	return nil
}
