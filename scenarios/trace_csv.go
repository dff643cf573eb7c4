package scenarios

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Vidur's trace columns, and the Request field each one fills.
const (
	colArrival = "arrived_at"
	colPrompt  = "num_prefill_tokens"
	colOutput  = "num_decode_tokens"
	colID      = "id"
)

var csvColumn = map[string]string{"arrival_s": colArrival, "prompt_tokens": colPrompt, "output_tokens": colOutput, "id": colID}

// ParseTraceCSV reads a Vidur trace CSV (see the format notes in trace.go). name is
// the file name used in errors, which read like
// "trace.csv: line 3, column num_prefill_tokens: "x" is not an integer".
func ParseTraceCSV(r io.Reader, name string) ([]Request, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: want a header %s,%s,%s", name, colArrival, colPrompt, colOutput)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			if h == colArrival || h == colPrompt || h == colOutput || h == colID {
				return nil, fmt.Errorf("%s: line 1: column %s appears twice", name, h)
			}
			continue // a repeated extra column is ignored like any extra column
		}
		col[h] = i
	}
	var missing []string
	for _, c := range []string{colArrival, colPrompt, colOutput} {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: line 1: missing column %s (header has %s)", name, strings.Join(missing, ", "), strings.Join(header, ","))
	}
	idCol, hasID := col[colID]

	var reqs []Request
	var checker requestChecker
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		at := func(column, format string, args ...any) error {
			l := line
			if i, ok := col[column]; ok {
				l, _ = cr.FieldPos(i) // a quoted cell may start on a later line
			}
			return fmt.Errorf("%s: line %d, column %s: %s", name, l, column, fmt.Sprintf(format, args...))
		}
		req := Request{ID: requestID(len(reqs))}
		if hasID {
			req.ID = strings.TrimSpace(rec[idCol])
		}
		cell := strings.TrimSpace(rec[col[colArrival]])
		if req.ArrivalS, err = strconv.ParseFloat(cell, 64); err != nil {
			return nil, at(colArrival, "%q is not a number", cell)
		}
		if req.ArrivalS == 0 {
			req.ArrivalS = 0 // no negative zero
		}
		for _, c := range []struct {
			name string
			dst  *int
		}{{colPrompt, &req.PromptTokens}, {colOutput, &req.OutputTokens}} {
			cell := strings.TrimSpace(rec[col[c.name]])
			if *c.dst, err = strconv.Atoi(cell); err != nil {
				return nil, at(c.name, "%q is not an integer", cell)
			}
		}
		if field, msg := checker.check(req, fmt.Sprintf("line %d", line)); msg != "" {
			return nil, at(csvColumn[field], "%s", msg)
		}
		reqs = append(reqs, req)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no requests after the header", name)
	}
	return reqs, nil
}

// WriteTraceCSV writes reqs as a Vidur trace CSV with an extra id column (which Vidur
// ignores). Times use the shortest form that reads back exactly.
func WriteTraceCSV(w io.Writer, reqs []Request) error {
	if err := ValidateRequests(reqs); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{colArrival, colPrompt, colOutput, colID}); err != nil {
		return err
	}
	for _, r := range reqs {
		row := []string{formatFloat(r.ArrivalS), strconv.Itoa(r.PromptTokens), strconv.Itoa(r.OutputTokens), r.ID}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
