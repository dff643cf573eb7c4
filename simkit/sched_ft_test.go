package simkit

import "testing"

func TestFasterTransformerBatchCompositions(t *testing.T) { runSchedCases(t, "fastertransformer") }
