package realkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// PythonEnv names the environment variable that selects the Python interpreter.
const PythonEnv = "SIMVAL_PYTHON"

// FindPython returns the interpreter for drivers: $SIMVAL_PYTHON if set, else
// python3 (or python) on PATH.
func FindPython() (string, error) {
	if p := os.Getenv(PythonEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("realkit: %s=%q: %w", PythonEnv, p, err)
		}
		return path, nil
	}
	for _, name := range []string{"python3", "python"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("realkit: no python3 or python on PATH (set %s)", PythonEnv)
}

// engineProbes are Python snippets that exit 0 when an engine can run here.
var engineProbes = map[string]string{
	"fake": `import sys; assert sys.version_info >= (3, 10), "need Python >= 3.10, have " + sys.version`,
	"hfcb": `import torch, transformers
assert torch.cuda.is_available(), "torch %s sees no CUDA device" % torch.__version__
from transformers import GenerationConfig
assert hasattr(transformers, "Qwen3ForCausalLM"), "transformers %s has no Qwen3ForCausalLM" % transformers.__version__
print("torch", torch.__version__, "transformers", transformers.__version__, torch.cuda.get_device_name(0))`,
	"sarathi": `import sarathi
from sarathi import LLMEngine, SamplingParams
print("sarathi", getattr(sarathi, "__version__", "unknown"))`,
}

// EnginePresent says whether engine's driver can run on this machine (the
// interpreter imports what the driver needs, with a GPU where it needs one) and,
// if not, why. It runs the interpreter, so it takes seconds (torch imports slowly).
func EnginePresent(engine string) (bool, string) {
	probe, ok := engineProbes[engine]
	if !ok {
		return false, fmt.Sprintf("unknown engine %q", engine)
	}
	python, err := FindPython()
	if err != nil {
		return false, err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", probe).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return false, fmt.Sprintf("%s cannot run engine %s: %s", python, engine, lastLines(text, 3))
		}
		return false, fmt.Sprintf("%s: %v", python, err)
	}
	return true, text
}
