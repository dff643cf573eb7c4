package suite

import (
	"fmt"

	"github.com/simval/simval/simkit"
)

// provenanceChecks compares where the real run and the profile come from. A profile
// that was not measured (a hand-written fixture) cannot predict a real run, whatever
// GPU and engine it claims; a different GPU, engine or engine version is a problem
// (the comparison is refused: the profile predicts another deployment); a different GPU
// driver or host CPU is a warning. Fields unknown on either side are not compared.
func provenanceChecks(real *Real, prof *simkit.Provenance) (problems, warnings []string) {
	if prof == nil {
		return nil, nil
	}
	if prof.Source != simkit.SourceMeasured {
		problems = append(problems, fmt.Sprintf("profile source is %q: only a measured profile is judged against "+
			"real runs (a fixture serves fixture targets)", prof.Source))
	}
	differ := func(r, p string) bool { return r != "" && p != "" && r != p }
	if differ(real.GPU, prof.GPU) {
		problems = append(problems, fmt.Sprintf("profile measured on GPU %q, real run on %q", prof.GPU, real.GPU))
	}
	if differ(real.Engine, prof.Engine) {
		problems = append(problems, fmt.Sprintf("profile measured on engine %q, real run on %q", prof.Engine, real.Engine))
	}
	if differ(real.EngineVersion, prof.EngineVersion) {
		problems = append(problems, fmt.Sprintf("profile measured on %s %s, real run on %s: re-profile or re-record",
			prof.Engine, prof.EngineVersion, real.EngineVersion))
	}
	if differ(real.HostCPU, prof.HostCPU) {
		warnings = append(warnings, fmt.Sprintf("profile measured on host CPU %q, real run on %q: CPU-side step "+
			"costs differ between hosts", prof.HostCPU, real.HostCPU))
	}
	if differ(real.GPUDriver, prof.GPUDriver) {
		warnings = append(warnings, fmt.Sprintf("profile measured with GPU driver %s, real run with %s", prof.GPUDriver, real.GPUDriver))
	}
	return problems, warnings
}
