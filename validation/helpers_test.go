package validation

// rec builds a consistent record: arrival a, one output token per token time.
func rec(id string, a float64, tokens ...float64) Record {
	r := Record{ID: id, ArrivalS: a, PromptTokens: 10, OutputTokens: len(tokens), TokenTimesS: tokens}
	if len(tokens) > 0 {
		r.FirstTokenS = tokens[0]
		r.CompletionS = tokens[len(tokens)-1]
	}
	return r
}

func ptr(f float64) *float64 { return &f }

// scaled returns recs with every token time scaled around its arrival by factor,
// so every latency metric (TTFT, ITL, TPOT, E2E) scales by exactly factor.
func scaled(recs []Record, factor float64) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		ts := make([]float64, len(r.TokenTimesS))
		for k, t := range r.TokenTimesS {
			ts[k] = r.ArrivalS + factor*(t-r.ArrivalS)
		}
		out[i] = rec(r.ID, r.ArrivalS, ts...)
	}
	return out
}

// evenRun is n queue-free requests 2 s apart with TTFT ttft and d tokens gap s apart.
func evenRun(n, d int, ttft, gap float64) []Record {
	var out []Record
	for i := range n {
		a := 2 * float64(i)
		ts := make([]float64, d)
		for k := range ts {
			ts[k] = a + ttft + float64(k)*gap
		}
		out = append(out, rec(idOf(i), a, ts...))
	}
	return out
}

func idOf(i int) string { return "r" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }
