package golden

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// SignificantDigits is how many significant digits a float keeps in a golden. Ten
// digits resolve nanoseconds on runs of minutes while absorbing last-bit differences
// (fused multiply-add on another architecture) that would make goldens flaky.
const SignificantDigits = 10

// Canonical renders v as indented JSON whose floats have SignificantDigits
// significant digits and whose integers stay integers, ending with a newline. Object
// keys keep the order encoding/json gives (struct field order, sorted map keys), so
// the same value always gives the same bytes. NaN and ±Inf are errors.
func Canonical(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("golden: marshal: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var buf bytes.Buffer
	if err := writeCanonical(&buf, dec, 0); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("golden: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		open, closing := byte(t), byte(']')
		if t == '{' {
			closing = '}'
		}
		buf.WriteByte(open)
		n := 0
		for dec.More() {
			if n > 0 {
				buf.WriteByte(',')
			}
			newline(buf, depth+1)
			if open == '{' {
				key, err := dec.Token()
				if err != nil {
					return fmt.Errorf("golden: %w", err)
				}
				kb, _ := json.Marshal(key)
				buf.Write(kb)
				buf.WriteString(": ")
			}
			if err := writeCanonical(buf, dec, depth+1); err != nil {
				return err
			}
			n++
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("golden: %w", err)
		}
		if n > 0 {
			newline(buf, depth)
		}
		buf.WriteByte(closing)
	case json.Number:
		buf.WriteString(formatNumber(t))
	default:
		b, _ := json.Marshal(t)
		buf.Write(b)
	}
	return nil
}

func newline(buf *bytes.Buffer, depth int) {
	buf.WriteByte('\n')
	for range depth {
		buf.WriteString("  ")
	}
}

// formatNumber keeps integers as written and rounds other numbers to
// SignificantDigits, printing the shortest form of the rounded value.
func formatNumber(n json.Number) string {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return string(n)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return string(n)
	}
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', SignificantDigits, 64), 64)
	return strconv.FormatFloat(rounded, 'g', -1, 64)
}
