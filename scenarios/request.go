package scenarios

// Request is one request of a workload: when it arrives and how many tokens it brings
// and asks for. Output lengths are fixed (EOS disabled on real engines).
type Request struct {
	ID           string  `json:"id"`
	ArrivalS     float64 `json:"arrival_s"`
	PromptTokens int     `json:"prompt_tokens"`
	OutputTokens int     `json:"output_tokens"`
}
