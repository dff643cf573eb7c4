package simkit

import "testing"

func TestLightLLMBatchCompositions(t *testing.T) { runSchedCases(t, "lightllm") }
