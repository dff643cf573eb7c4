package validation

// ClientTimestampsWarning is carried by every comparison whose real side holds
// client-side timestamps (an OpenAI-client run, or a run imported from another
// benchmark tool). The judgement and its bounds stay as they are; the bias is said
// where the verdict is read.
const ClientTimestampsWarning = "the real run's timestamps are client-side (when the client sent each request and " +
	"received each streamed chunk) and the simulator predicts engine-side times: client times add network, HTTP " +
	"and tokenizer/detokenizer overhead, so the real TTFT (and E2E) are biased up against the prediction and the " +
	"ITLs carry the chunking of the stream; the bounds are not widened for it"
