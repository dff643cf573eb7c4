package realkit

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
)

// A driver that refuses its arguments exits with argparse's usage block on stderr
// ("usage: …", then "<driver>.py: error: <what>") before any protocol line. One
// line says what is wrong; the block around it (and "no stdout line seen") only
// hides it. usageHold and usageError turn the block into that one line.

// argparseError is argparse's last line: "<prog>: error: <message>".
var argparseError = regexp.MustCompile(`(?m)^\S+: error: (.+)$`)

// usageError returns argparse's complaint in a driver's stderr, or "" when the stderr
// does not hold a usage block.
func usageError(stderr string) string {
	if !strings.HasPrefix(strings.TrimLeft(stderr, "\n"), "usage: ") && !strings.Contains(stderr, "\nusage: ") {
		return ""
	}
	m := argparseError.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return ""
	}
	return strings.TrimSpace(m[len(m)-1][1])
}

// usageHold passes a driver's stderr through to w as it comes, unless the stderr
// begins with an argparse usage block: that is held back until release, which drops
// it when the run's error reports it (or writes it out otherwise).
type usageHold struct {
	w       io.Writer
	mu      sync.Mutex
	decided bool // whether the stderr began with a usage block is known
	holding bool
	buf     []byte
}

const usagePrefix = "usage: "

func (h *usageHold) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.decided && !h.holding {
		return h.w.Write(p)
	}
	h.buf = append(h.buf, p...)
	if !h.decided {
		if len(h.buf) < len(usagePrefix) && strings.HasPrefix(usagePrefix, string(h.buf)) {
			return len(p), nil // too short to tell yet
		}
		h.decided, h.holding = true, bytes.HasPrefix(h.buf, []byte(usagePrefix))
		if !h.holding {
			_, err := h.w.Write(h.buf)
			h.buf = nil
			return len(p), err
		}
	}
	return len(p), nil
}

// release writes what was held back, unless drop.
func (h *usageHold) release(drop bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !drop && len(h.buf) > 0 {
		_, _ = h.w.Write(h.buf)
	}
	h.buf, h.decided, h.holding = nil, true, false
}
