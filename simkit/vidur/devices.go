package vidur

import (
	"fmt"
	"strings"
)

// Device is a GPU in Vidur's names: its device SKU (compute profiles live under
// data/profiling/compute/<Device>) and the node SKU its network and CPU profiles are
// filed under (data/profiling/network/<Network>, cpu_overhead/<Network>).
type Device struct {
	Device, Network string
	// Launcher is true for a device Vidur at 7d47513 does not know, which simval's
	// launcher (realkit's vidur_launch.py) defines at run time.
	Launcher bool
}

// DeviceFor maps a target's GPU name ("NVIDIA H200", "NVIDIA A100-SXM4-80GB") to
// Vidur's device and node names: Vidur's own a40, a100 and h100 entries, and h200
// (with an 8-GPU h200_dgx node), which the launcher supplies.
func DeviceFor(gpu string) (Device, error) {
	u := strings.ToUpper(gpu)
	switch {
	case strings.Contains(u, "H200"):
		return Device{Device: "h200", Network: "h200_dgx", Launcher: true}, nil
	case strings.Contains(u, "H100"):
		return Device{Device: "h100", Network: "h100_dgx"}, nil
	case strings.Contains(u, "A100"):
		return Device{Device: "a100", Network: "a100_dgx"}, nil
	case strings.Contains(u, "A40"):
		return Device{Device: "a40", Network: "a40_pairwise_nvlink"}, nil
	}
	return Device{}, fmt.Errorf("GPU %q has no Vidur device (a40, a100, h100, and h200 through simval's launcher)", gpu)
}
