package validation

import (
	"fmt"
	"strconv"
	"strings"
)

// SettableSettings are the engine settings a what-if may change (Set), in the
// EngineSettings JSON names. The rest (tp, pp, attention backend, dtype, graphs, model)
// change what was profiled, not a knob of the same deployment.
var SettableSettings = []string{"scheduler", "token_budget", "max_seqs", "block_size", "num_blocks"}

// Set changes one setting from its text form, "key=value" style: a positive integer
// for the counts, a scheduler name for scheduler. An unknown key or a bad value is an
// error naming it and what is accepted.
func (s *EngineSettings) Set(key, value string) error {
	if key == "scheduler" {
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("setting scheduler: empty value")
		}
		s.Scheduler = value
		return nil
	}
	var field *int
	switch key {
	case "token_budget":
		field = &s.TokenBudget
	case "max_seqs":
		field = &s.MaxSeqs
	case "block_size":
		field = &s.BlockSize
	case "num_blocks":
		field = &s.NumBlocks
	default:
		return fmt.Errorf("setting %q: not one of %s", key, strings.Join(SettableSettings, ", "))
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return fmt.Errorf("setting %s: %q is not a positive integer", key, value)
	}
	*field = n
	return nil
}
