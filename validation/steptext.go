package validation

import (
	"fmt"
	"io"
	"strings"
)

// WriteStepText writes steps, real or simulated, in simval's one step-trace notation:
// one line per step, the same for both sides, so a transcript of either reads alike
// and two can be diffed. A line is
//
//	step 3 t=+1.810s 979.1ms capture key=64/16384/1024 q=16 kv=3465 prefill=0 decode=16
//
// t is the start relative to the repetition's t0 (warm-up steps are negative and
// marked "warmup"), then the wall time, the kind (Step.Kind), the padded shape where
// known, the unpadded query and cached tokens, and the batch's prefill and decode
// items. With ids, the items follow as id:pN (prefill of N tokens) or id:d (a decode).
func WriteStepText(w io.Writer, steps []Step, ids bool) error {
	var b strings.Builder
	for _, s := range steps {
		b.Reset()
		fmt.Fprintf(&b, "step %d t=%+.3fs %.1fms %s", s.Index, s.StartS, s.DurationS*1e3, s.Kind())
		if s.Warmup {
			b.WriteString(" warmup")
		}
		if s.QPad > 0 {
			fmt.Fprintf(&b, " key=%d/%d/%d", s.QPad, s.KVPad, s.SeqKPad)
		}
		pre, dec := 0, 0
		for _, it := range s.Items {
			if it.Decode > 0 {
				dec++
			} else {
				pre++
			}
		}
		fmt.Fprintf(&b, " q=%d kv=%d prefill=%d decode=%d", s.QTokens, s.KVRead, pre, dec)
		if ids && len(s.Items) > 0 {
			b.WriteString(" [")
			for i, it := range s.Items {
				if i > 0 {
					b.WriteByte(' ')
				}
				if it.Decode > 0 {
					fmt.Fprintf(&b, "%s:d", it.ID)
				} else {
					fmt.Fprintf(&b, "%s:p%d", it.ID, it.Prefill)
				}
			}
			b.WriteByte(']')
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}
