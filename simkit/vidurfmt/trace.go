package vidurfmt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/simval/simval/scenarios"
)

// TraceReplay holds trace_replay's settings (TraceRequestGeneratorConfig); the zero
// value is not valid, DefaultTraceReplay is Vidur's default.
type TraceReplay struct {
	PrefillScale float64 // prefill_scale_factor
	DecodeScale  float64 // decode_scale_factor
	TimeScale    float64 // time_scale_factor
	MaxTokens    int     // max_tokens: prompt + output is trimmed to this
}

// DefaultTraceReplay is trace_replay's default configuration.
func DefaultTraceReplay() TraceReplay {
	return TraceReplay{PrefillScale: 1, DecodeScale: 1, TimeScale: 1, MaxTokens: 4096}
}

func (c TraceReplay) validate() error {
	for _, s := range []struct {
		name string
		v    float64
	}{{"prefill_scale_factor", c.PrefillScale}, {"decode_scale_factor", c.DecodeScale}, {"time_scale_factor", c.TimeScale}} {
		if math.IsNaN(s.v) || math.IsInf(s.v, 0) || s.v <= 0 {
			return fmt.Errorf("trace_replay: %s must be finite and > 0, got %v", s.name, s.v)
		}
	}
	if c.MaxTokens < 2 {
		return fmt.Errorf("trace_replay: max_tokens must be ≥ 2, got %d", c.MaxTokens)
	}
	return nil
}

// TraceRow is one request of a Vidur trace after trace_replay's rules. Its Vidur
// request id is its row index (0-based).
type TraceRow struct {
	ArrivedAt float64
	Prefill   int // P, after scaling, truncation, clipping and trimming
	Decode    int // D, which counts the token the prefill produces
	// Trimmed is how many prompt tokens max_tokens cut off (0 for most rows).
	Trimmed int
}

// ReadTraceFile reads a trace CSV with trace_replay's rules.
func ReadTraceFile(path string, c TraceReplay) ([]TraceRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTrace(f, path, c)
}

// ParseTrace reads a trace CSV as Vidur's trace_replay does: columns arrived_at,
// num_prefill_tokens and num_decode_tokens found by name (others ignored); token
// counts scaled, truncated to integers (pandas' astype(int)) and clipped to ≥ 1;
// where P + D > max_tokens the excess is taken off P; arrivals scaled. Rows keep
// their order (Vidur neither sorts nor shuffles a replayed trace).
//
// Where Vidur would go on with nonsense, this refuses with the line: a cell that is
// not a finite number, and a row whose prompt trimming leaves P ≤ 0 (Vidur does not
// check it, and such a request can never be scheduled).
func ParseTrace(r io.Reader, name string, c TraceReplay) ([]TraceRow, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	idx, err := f.index("arrived_at", "num_prefill_tokens", "num_decode_tokens")
	if err != nil {
		return nil, err
	}
	var rows []TraceRow
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var v [3]float64
		for i, j := range idx {
			if v[i], err = f.float(rec, j); err != nil {
				return nil, err
			}
			if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
				return nil, f.errf(f.header[j], "%q is not a finite number", rec[j])
			}
		}
		p, err := scaleTokens(f, idx[1], v[1], c.PrefillScale)
		if err != nil {
			return nil, err
		}
		d, err := scaleTokens(f, idx[2], v[2], c.DecodeScale)
		if err != nil {
			return nil, err
		}
		row := TraceRow{ArrivedAt: v[0] * c.TimeScale, Prefill: p, Decode: d}
		if excess := p + d - c.MaxTokens; excess > 0 {
			row.Prefill, row.Trimmed = p-excess, excess
			if row.Prefill <= 0 {
				return nil, f.errf("num_decode_tokens", "output %d leaves no prompt under max_tokens %d (Vidur would trim the prompt to %d)", d, c.MaxTokens, row.Prefill)
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no requests", name)
	}
	return rows, nil
}

// maxTraceTokens bounds one token count, far above any context length, so that the
// int conversion of a scaled count is always exact.
const maxTraceTokens = 1 << 40

// scaleTokens multiplies, truncates towards zero and clips to ≥ 1, as
// (col * factor).astype(int).clip(lower=1) does.
func scaleTokens(f *csvFile, col int, v, scale float64) (int, error) {
	x := math.Trunc(v * scale)
	if math.Abs(x) > maxTraceTokens {
		return 0, f.errf(f.header[col], "%v tokens is out of range", v)
	}
	return max(int(x), 1), nil
}

// Requests turns trace rows into simval requests whose IDs are Vidur's request ids
// ("0", "1", …), so records and request_metrics.csv rows pair up by ID.
func Requests(rows []TraceRow) []scenarios.Request {
	out := make([]scenarios.Request, len(rows))
	for i, r := range rows {
		out[i] = scenarios.Request{ID: strconv.Itoa(i), ArrivalS: r.ArrivedAt, PromptTokens: r.Prefill, OutputTokens: r.Decode}
	}
	return out
}

// WriteTrace writes requests as a trace CSV Vidur's trace_replay reads back exactly
// (arrivals as shortest round-trip decimals), in the given order: Vidur numbers
// requests by row, so row i is Vidur's request i.
func WriteTrace(w io.Writer, reqs []scenarios.Request) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("arrived_at,num_prefill_tokens,num_decode_tokens\n")
	for _, r := range reqs {
		if math.IsNaN(r.ArrivalS) || math.IsInf(r.ArrivalS, 0) {
			return fmt.Errorf("request %q: arrival %v is not finite", r.ID, r.ArrivalS)
		}
		if r.PromptTokens < 1 || r.OutputTokens < 1 {
			return fmt.Errorf("request %q: token counts must be ≥ 1, got prompt %d, output %d", r.ID, r.PromptTokens, r.OutputTokens)
		}
		bw.WriteString(pyFloat(r.ArrivalS))
		bw.WriteByte(',')
		bw.WriteString(strconv.Itoa(r.PromptTokens))
		bw.WriteByte(',')
		bw.WriteString(strconv.Itoa(r.OutputTokens))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// pyFloat formats v as Python's repr does: the shortest decimal that round-trips,
// positional for decimal exponents in [-4, 16) with ".0" on integral values, and
// scientific ("1e-05", "1.5e+16") otherwise.
func pyFloat(v float64) string { return string(appendPyFloat(nil, v)) }

// appendPyFloat appends pyFloat(v) to dst. The shortest digits are computed once (in
// scientific form) and laid out positionally by hand when Python would: a
// request_metrics.csv of Vidur's whole splitwise_conv trace has 350,000 of them.
func appendPyFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	case v == 0:
		if math.Signbit(v) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	sci := strconv.AppendFloat(buf[:0], v, 'e', -1, 64) // [-]d[.ddd]e±XX
	mant, expPart, _ := bytes.Cut(sci, []byte{'e'})
	exp, _ := atoiDigits(bytes.TrimPrefix(expPart, []byte{'+'}))
	if exp < -4 || exp >= 16 {
		return append(dst, sci...)
	}
	if mant[0] == '-' {
		dst = append(dst, '-')
		mant = mant[1:]
	}
	var digits [24]byte // the significant digits without the point: at most 17
	d := append(digits[:0], mant[0])
	if len(mant) > 2 {
		d = append(d, mant[2:]...)
	}
	if exp < 0 { // 0.000ddd
		dst = append(dst, "0."...)
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	if len(d) <= exp+1 { // integral: ddd000.0
		dst = append(dst, d...)
		for range exp + 1 - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, ".0"...)
	}
	dst = append(dst, d[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, d[exp+1:]...)
}
