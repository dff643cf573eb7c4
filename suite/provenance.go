package suite

import (
	"fmt"

	"github.com/simval/simval/simkit"
)

// provenanceChecks compares where the real run and the profile come from. A different
// GPU, engine or engine version is a problem (the comparison is refused: the profile
// predicts another deployment); a different GPU driver is a warning. Fields unknown on
// either side are not compared.
func provenanceChecks(real *Real, prof *simkit.Provenance) (problems, warnings []string) {
	if prof == nil {
		return nil, nil
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
	if differ(real.GPUDriver, prof.GPUDriver) {
		warnings = append(warnings, fmt.Sprintf("profile measured with GPU driver %s, real run with %s", prof.GPUDriver, real.GPUDriver))
	}
	return problems, warnings
}
