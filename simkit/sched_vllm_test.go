package simkit

import "testing"

func TestVLLMBatchCompositions(t *testing.T) { runSchedCases(t, "vllm") }
