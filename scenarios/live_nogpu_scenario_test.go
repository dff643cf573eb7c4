//go:build !gpu

package scenarios_test

import "testing"

// runLive does nothing without the gpu build tag: live engine runs need a GPU runner
// (go test -tags gpu).
func runLive(*testing.T, string) {}
