//go:build !unix

package realkit

import "os/exec"

// Without process groups only the driver itself can be signalled.
func inOwnProcessGroup(cmd *exec.Cmd) {}

func terminateGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
