package realkit

import "sync"

// ringBuffer keeps the last cap bytes written to it: a driver's stderr can be long
// (model loading logs), and only its tail is useful in an error message.
type ringBuffer struct {
	mu   sync.Mutex
	buf  []byte
	cap  int
	lost bool
}

func newRingBuffer(capacity int) *ringBuffer { return &ringBuffer{cap: capacity} }

func (r *ringBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - r.cap; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
		r.lost = true
	}
	return len(p), nil
}

// String returns the kept tail, marked when earlier output was dropped.
func (r *ringBuffer) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost {
		return "…" + string(r.buf)
	}
	return string(r.buf)
}
