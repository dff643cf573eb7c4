package main

import (
	"fmt"

	"github.com/simval/simval/suite"
)

// validatedSystem is the simulator `simval validate --system` judges: simval's own,
// or Vidur from the runs recorded under each target (simruns/<system>/), so that CI
// without Vidur can judge it. Decisions (what-if variants) are judged for simval only:
// Vidur has no recorded runs of them.
func validatedSystem(f validateFlags) (suite.System, error) {
	switch f.system {
	case "", "simval":
		return suite.Simulator{NoCPUOverhead: f.noCPU}, nil
	case suite.SystemVidur, suite.SystemVidurCPU:
		if f.noCPU {
			return nil, fmt.Errorf("--no-cpu-overhead applies to simval; --system %s (CPU overhead skipped) is "+
				"Vidur's kernel-only run", suite.SystemVidur)
		}
		return suite.RecordedSimulator{System: f.system}, nil
	}
	return nil, fmt.Errorf("--system %q: want simval, %s or %s", f.system, suite.SystemVidur, suite.SystemVidurCPU)
}
