package simkit

import "testing"

func TestOrcaBatchCompositions(t *testing.T) { runSchedCases(t, "orca") }
