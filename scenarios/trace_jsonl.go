package scenarios

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// jsonlFields are the fields of one JSON-lines request, all required, matched
// exactly (encoding/json alone would accept "ID" for "id").
var jsonlFields = []string{"id", "arrival_s", "prompt_tokens", "output_tokens"}

// ParseTraceJSONL reads a JSON-lines trace (see the format notes in trace.go). name
// is the file name used in errors, which read like
// "trace.jsonl: line 3: field prompt_tokens: must be in [1, 10000000], got 0".
func ParseTraceJSONL(r io.Reader, name string) ([]Request, error) {
	br := bufio.NewReader(r)
	var reqs []Request
	var checker requestChecker
	for line := 1; ; line++ {
		text, readErr := br.ReadBytes('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, readErr)
		}
		if text = bytes.TrimSpace(text); len(text) > 0 {
			req, err := decodeJSONLine(text)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
			}
			if field, msg := checker.check(req, "line "+strconv.Itoa(line)); msg != "" {
				return nil, fmt.Errorf("%s: line %d: field %s: %s", name, line, field, msg)
			}
			reqs = append(reqs, req)
		}
		if readErr != nil {
			break
		}
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no requests", name)
	}
	return reqs, nil
}

func decodeJSONLine(text []byte) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return Request{}, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Request{}, errors.New("trailing data after the object: one request per line")
	}
	if obj == nil {
		return Request{}, errors.New("want an object, got null")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(jsonlFields, k) {
			return Request{}, fmt.Errorf("unknown field %q (want %s)", k, strings.Join(jsonlFields, ", "))
		}
	}
	var req Request
	dst := []any{&req.ID, &req.ArrivalS, &req.PromptTokens, &req.OutputTokens}
	for i, k := range jsonlFields {
		raw, ok := obj[k]
		switch {
		case !ok:
			return Request{}, fmt.Errorf("missing field %s", k)
		case string(raw) == "null":
			return Request{}, fmt.Errorf("field %s: null", k)
		}
		if err := json.Unmarshal(raw, dst[i]); err != nil {
			return Request{}, fmt.Errorf("field %s: %s", k, strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if req.ArrivalS == 0 {
		req.ArrivalS = 0 // no negative zero
	}
	return req, nil
}

// WriteTraceJSONL writes reqs as JSON lines, times in the shortest form that reads
// back exactly.
func WriteTraceJSONL(w io.Writer, reqs []Request) error {
	if err := ValidateRequests(reqs); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for _, r := range reqs {
		id, err := json.Marshal(r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, `{"id":%s,"arrival_s":%s,"prompt_tokens":%d,"output_tokens":%d}`+"\n",
			id, formatFloat(r.ArrivalS), r.PromptTokens, r.OutputTokens)
	}
	return bw.Flush()
}
